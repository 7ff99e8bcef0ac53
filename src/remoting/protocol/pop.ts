/**
 * POP consumption (RocketMQ 5): POP_MESSAGE 200050, ACK_MESSAGE 200051, CHANGE_MESSAGE_INVISIBLETIME 200053 and
 * BATCH_ACK_MESSAGE 200151 — headers and the batch-ack body, shared by the broker's processors and clients.
 *
 * PopMessageRequestHeader (* = required by RocketMQ 5.3.3):
 *   consumerGroup String *, topic String *, queueId int * (-1 = every queue), maxMsgNums int *,
 *   invisibleTime long *, pollTime long *, bornTime long *, initMode int * (0 MIN, 1 MAX),
 *   expType String, exp String, order Boolean, attemptId String
 * PopMessageResponseHeader: popTime long *, invisibleTime long *, reviveQid int *, restNum long *,
 *   startOffsetInfo, msgOffsetInfo, orderCountInfo String
 * AckMessageRequestHeader: consumerGroup String *, topic String *, queueId Integer *, extraInfo String *,
 *   offset Long *
 * ChangeInvisibleTimeRequestHeader: the same + invisibleTime Long *; response popTime, invisibleTime long *,
 *   reviveQid int *
 * BatchAckMessageRequestBody (JSON): {"brokerName","acks":[{"c","t","r","so","q","rq","pt","it","b"}]}, b = the
 *   acked offsets (bit i = startOffset + i) as java.util.BitSet#toByteArray, base64 (fastjson's byte[]).
 *   Its answer (ours; RocketMQ's has no header): expiredInfo String = `ackIndex o1,o2;…`, the offsets that were
 *   too late (nothing done for them; the rest are acked), absent when all were acked.
 */
import type { RemotingCommand } from '../command.js';
import { optionalBool, optionalString, requireInt, requireLong, requireString } from '../fields.js';

export const PopInitMode = { min: 0, max: 1 } as const;

export interface PopMessageRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  maxMsgNums: number;
  invisibleTime: bigint;
  pollTime: bigint;
  bornTime: bigint;
  initMode: number;
  expType?: string | undefined;
  exp?: string | undefined;
  order?: boolean | undefined;
  attemptId?: string | undefined;
}

export function encodePopMessageHeader(h: PopMessageRequestHeader): Record<string, string> {
  const out: Record<string, string> = {
    consumerGroup: h.consumerGroup,
    topic: h.topic,
    queueId: String(h.queueId),
    maxMsgNums: String(h.maxMsgNums),
    invisibleTime: String(h.invisibleTime),
    pollTime: String(h.pollTime),
    bornTime: String(h.bornTime),
    initMode: String(h.initMode),
  };
  if (h.expType !== undefined) out['expType'] = h.expType;
  if (h.exp !== undefined) out['exp'] = h.exp;
  if (h.order !== undefined) out['order'] = String(h.order);
  if (h.attemptId !== undefined) out['attemptId'] = h.attemptId;
  return out;
}

/** Throws HeaderFieldError naming a missing or malformed field. */
export function decodePopMessageHeader(req: RemotingCommand): PopMessageRequestHeader {
  return {
    consumerGroup: requireString(req, 'consumerGroup'),
    topic: requireString(req, 'topic'),
    queueId: requireInt(req, 'queueId'),
    maxMsgNums: requireInt(req, 'maxMsgNums'),
    invisibleTime: requireLong(req, 'invisibleTime'),
    pollTime: requireLong(req, 'pollTime'),
    bornTime: requireLong(req, 'bornTime'),
    initMode: requireInt(req, 'initMode'),
    expType: optionalString(req, 'expType'),
    exp: optionalString(req, 'exp'),
    order: optionalBool(req, 'order'),
    attemptId: optionalString(req, 'attemptId'),
  };
}

export interface PopMessageResponseHeader {
  popTime: number;
  invisibleTime: number;
  reviveQid: number;
  restNum: number;
  startOffsetInfo?: string | undefined;
  msgOffsetInfo?: string | undefined;
  orderCountInfo?: string | undefined;
}

export function encodePopMessageResponseHeader(h: PopMessageResponseHeader): Record<string, string> {
  const out: Record<string, string> = {
    popTime: String(h.popTime),
    invisibleTime: String(h.invisibleTime),
    reviveQid: String(h.reviveQid),
    restNum: String(h.restNum),
  };
  if (h.startOffsetInfo !== undefined) out['startOffsetInfo'] = h.startOffsetInfo;
  if (h.msgOffsetInfo !== undefined) out['msgOffsetInfo'] = h.msgOffsetInfo;
  if (h.orderCountInfo !== undefined) out['orderCountInfo'] = h.orderCountInfo;
  return out;
}

export function decodePopMessageResponseHeader(resp: RemotingCommand): PopMessageResponseHeader {
  return {
    popTime: Number(requireLong(resp, 'popTime')),
    invisibleTime: Number(requireLong(resp, 'invisibleTime')),
    reviveQid: requireInt(resp, 'reviveQid'),
    restNum: Number(requireLong(resp, 'restNum')),
    startOffsetInfo: optionalString(resp, 'startOffsetInfo'),
    msgOffsetInfo: optionalString(resp, 'msgOffsetInfo'),
    orderCountInfo: optionalString(resp, 'orderCountInfo'),
  };
}

export interface AckMessageRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  extraInfo: string;
  offset: bigint;
}

export function encodeAckMessageHeader(h: AckMessageRequestHeader): Record<string, string> {
  return {
    consumerGroup: h.consumerGroup,
    topic: h.topic,
    queueId: String(h.queueId),
    extraInfo: h.extraInfo,
    offset: String(h.offset),
  };
}

export function decodeAckMessageHeader(req: RemotingCommand): AckMessageRequestHeader {
  return {
    consumerGroup: requireString(req, 'consumerGroup'),
    topic: requireString(req, 'topic'),
    queueId: requireInt(req, 'queueId'),
    extraInfo: requireString(req, 'extraInfo'),
    offset: requireLong(req, 'offset'),
  };
}

export interface ChangeInvisibleTimeRequestHeader extends AckMessageRequestHeader {
  invisibleTime: bigint;
}

export function encodeChangeInvisibleTimeHeader(h: ChangeInvisibleTimeRequestHeader): Record<string, string> {
  return { ...encodeAckMessageHeader(h), invisibleTime: String(h.invisibleTime) };
}

export function decodeChangeInvisibleTimeHeader(req: RemotingCommand): ChangeInvisibleTimeRequestHeader {
  return { ...decodeAckMessageHeader(req), invisibleTime: requireLong(req, 'invisibleTime') };
}

export interface ChangeInvisibleTimeResponseHeader {
  popTime: number;
  invisibleTime: number;
  reviveQid: number;
}

export function encodeChangeInvisibleTimeResponseHeader(h: ChangeInvisibleTimeResponseHeader): Record<string, string> {
  return { popTime: String(h.popTime), invisibleTime: String(h.invisibleTime), reviveQid: String(h.reviveQid) };
}

export function decodeChangeInvisibleTimeResponseHeader(resp: RemotingCommand): ChangeInvisibleTimeResponseHeader {
  return {
    popTime: Number(requireLong(resp, 'popTime')),
    invisibleTime: Number(requireLong(resp, 'invisibleTime')),
    reviveQid: requireInt(resp, 'reviveQid'),
  };
}

/** One entry of a batch ack: the acked offsets of one check point. */
export interface BatchAck {
  consumerGroup: string;
  topic: string;
  /** The check point is of the group's POP retry topic. */
  retry: boolean;
  startOffset: bigint;
  queueId: number;
  reviveQueueId: number;
  popTime: number;
  invisibleTime: number;
  /** Acked queue offsets. */
  offsets: bigint[];
}

export interface BatchAckBody {
  brokerName: string;
  acks: BatchAck[];
}

/** Offsets of a batch ack that were too late, by the index of their entry in the body's acks. */
export interface BatchAckExpired {
  ack: number;
  offsets: readonly bigint[];
}

export interface BatchAckResponseHeader {
  expired: BatchAckExpired[];
}

export function encodeBatchAckResponseHeader(h: BatchAckResponseHeader): Record<string, string> {
  return { expiredInfo: h.expired.map((e) => `${e.ack} ${e.offsets.join(',')}`).join(';') };
}

/** The expired offsets of a batch-ack answer, or what is malformed (an answer without the field: none). */
export function decodeBatchAckResponseHeader(resp: RemotingCommand): BatchAckResponseHeader | string {
  const text = optionalString(resp, 'expiredInfo');
  if (text === undefined || text === '') return { expired: [] };
  const expired: BatchAckExpired[] = [];
  for (const entry of text.split(';')) {
    const m = /^(\d{1,9}) (-?\d{1,19}(?:,-?\d{1,19})*)$/.exec(entry);
    if (m === null) return `expiredInfo entry ${JSON.stringify(entry)} is not "ackIndex o1,o2,…"`;
    expired.push({ ack: Number(m[1]), offsets: (m[2] as string).split(',').map(BigInt) });
  }
  return { expired };
}

/** Acks one body may carry (a hostile or broken client cannot make one request cost unbounded work). */
export const batchAcksMax = 1024;
/** Offsets one batch-ack entry may name (bits of its BitSet). */
export const batchAckOffsetsMax = 1024;

/** The body as JSON text, written field by field (the names and numbers need no escaping; strings are quoted). */
export function encodeBatchAckBody(b: BatchAckBody): Buffer {
  let text = '{"acks":[';
  for (let i = 0; i < b.acks.length; i++) {
    const a = b.acks[i] as BatchAck;
    const bits = bitSetBytesOf(a.offsets, a.startOffset).toString('base64');
    text +=
      `${i === 0 ? '' : ','}{"c":${JSON.stringify(a.consumerGroup)},"t":${JSON.stringify(a.topic)},` +
      `"r":"${a.retry ? '1' : '0'}","so":${a.startOffset},"q":${a.queueId},"rq":${a.reviveQueueId},` +
      `"pt":${a.popTime},"it":${a.invisibleTime},"b":"${bits}"}`;
  }
  return Buffer.from(`${text}],"brokerName":${JSON.stringify(b.brokerName)}}`);
}

/** The body, or what is wrong with it. Accepts RocketMQ's short names and their long alternates. */
export function decodeBatchAckBody(
  body: Buffer | undefined,
): { ok: true; body: BatchAckBody } | { ok: false; error: string } {
  if (body === undefined || body.length === 0) return { ok: false, error: 'batch ack has no body' };
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return { ok: false, error: `batch ack body is not JSON: ${(err as Error).message}` };
  }
  if (typeof raw !== 'object' || raw === null) return { ok: false, error: 'batch ack body is not a JSON object' };
  const o = raw as Record<string, unknown>;
  const list = o['acks'];
  if (!Array.isArray(list)) return { ok: false, error: 'batch ack body has no "acks" array' };
  if (list.length > batchAcksMax)
    return { ok: false, error: `batch ack body has ${list.length} acks, at most ${batchAcksMax}` };
  const acks: BatchAck[] = [];
  for (let i = 0; i < list.length; i++) {
    const a = list[i] as Record<string, unknown> | null;
    if (typeof a !== 'object' || a === null) return { ok: false, error: `acks[${i}] is not an object` };
    const pick = (short: string, long: string) => a[short] ?? a[long];
    const str = (short: string, long: string) => {
      const v = pick(short, long);
      return typeof v === 'string' ? v : undefined;
    };
    const num = (short: string, long: string) => {
      const v = pick(short, long);
      if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
      if (typeof v === 'string' && /^-?\d{1,16}$/.test(v)) return Number(v);
      return undefined;
    };
    const c = str('c', 'consumerGroup');
    const t = str('t', 'topic');
    const so = num('so', 'startOffset');
    const q = num('q', 'queueId');
    const rq = num('rq', 'reviveQueueId');
    const pt = num('pt', 'popTime');
    const it = num('it', 'invisibleTime');
    const r = pick('r', 'retry');
    const bits = bitIndexesOf(pick('b', 'bitSet'));
    const missing = [
      ['c', c],
      ['t', t],
      ['so', so],
      ['q', q],
      ['rq', rq],
      ['pt', pt],
      ['it', it],
    ].find(([, v]) => v === undefined);
    if (missing !== undefined) return { ok: false, error: `acks[${i}].${missing[0]} is missing or malformed` };
    if (typeof bits === 'string') return { ok: false, error: `acks[${i}].b ${bits}` };
    const start = BigInt(so as number);
    acks.push({
      consumerGroup: c as string,
      topic: t as string,
      retry: r === '1' || r === 1 || r === true,
      startOffset: start,
      queueId: q as number,
      reviveQueueId: rq as number,
      popTime: pt as number,
      invisibleTime: it as number,
      offsets: bits.map((b) => start + BigInt(b)),
    });
  }
  return { ok: true, body: { brokerName: typeof o['brokerName'] === 'string' ? o['brokerName'] : '', acks } };
}

/**
 * java.util.BitSet#toByteArray of the offsets, bit i = `start + i`: bit i in byte i/8 at position i%8, trailing
 * zero bytes dropped.
 */
function bitSetBytesOf(offsets: readonly bigint[], start: bigint): Buffer {
  const from = Number(start);
  const indexes = offsets.map((o) => Number(o) - from);
  let max = -1;
  for (const i of indexes) if (i > max) max = i;
  const out = Buffer.alloc(max < 0 ? 0 : (max >> 3) + 1);
  for (const i of indexes) out[i >> 3] = (out[i >> 3] as number) | (1 << (i & 7));
  return out;
}

/** The set bits of a BitSet as fastjson writes it (base64 bytes) or as a byte array; or what is wrong. */
function bitIndexesOf(v: unknown): number[] | string {
  let bytes: Buffer;
  if (typeof v === 'string') bytes = Buffer.from(v, 'base64');
  else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) bytes = Buffer.from(v.map((x) => x & 0xff));
  else return 'is missing or not a bit set (base64 bytes)';
  if (bytes.length * 8 > batchAckOffsetsMax * 8) return `names more than ${batchAckOffsetsMax * 8} offsets`;
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    for (let j = 0; j < 8; j++) if ((b & (1 << j)) !== 0) out.push(i * 8 + j);
  }
  if (out.length > batchAckOffsetsMax) return `names ${out.length} offsets, at most ${batchAckOffsetsMax}`;
  return out;
}
