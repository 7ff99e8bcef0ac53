/** Message-level admin operations: query by key / id, view by offsetMsgId, a minimal send and a direct pull. */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, TsRocketError } from '../../common/errors.js';
import type { MessageExt } from '../../common/message.js';
import { encodeProperties, keySeparator, Prop } from '../../common/properties.js';
import { decodeOffsetMsgId, decodeRecords } from '../../common/record.js';
import { SystemGroup } from '../../common/topics.js';
import { PullSysFlag, RequestCode, ResponseCode } from '../../remoting/codes.js';
import { decodePullResponseHeader, encodePullHeader } from '../../remoting/protocol/pull.js';
import {
  encodeQueryMessageHeader,
  encodeViewMessageHeader,
  uniqueKeyQueryFlag as uniqueKeyQueryFlagName,
} from '../../remoting/protocol/query.js';
import { decodeSendResponseHeader, encodeSendHeaderV2 } from '../../remoting/protocol/send.js';
import { type AdminRpc, masterAddrOf } from './rpc.js';

/** RocketMQ's MixAll.UNIQUE_MSG_QUERY_FLAG: tells QUERY_MESSAGE the key is a UNIQ_KEY msgId. */
export const uniqueKeyQueryFlag = uniqueKeyQueryFlagName;
export const queryMaxNumDefault = 64;
export const toolsConsumerGroup = SystemGroup.toolsConsumer;
export const toolsProducerGroup = SystemGroup.toolsProducer;
export const pullBatchMax = 32;

/** Runs QUERY_MESSAGE on every master serving `topic` and merges the hits (deduplicated, oldest first). */
export async function queryMessages(
  rpc: AdminRpc,
  topic: string,
  key: string,
  opts: { uniqKey?: boolean; maxNum?: number; beginTimestamp?: number; endTimestamp?: number } = {},
): Promise<MessageExt[]> {
  const masters = await rpc.topicMasters(topic);
  const fields = encodeQueryMessageHeader({
    topic,
    key,
    maxNum: opts.maxNum ?? queryMaxNumDefault,
    beginTimestamp: opts.beginTimestamp ?? 0,
    endTimestamp: opts.endTimestamp ?? Number.MAX_SAFE_INTEGER,
    uniqKey: opts.uniqKey,
  });
  const found = new Map<string, MessageExt>();
  for (const { addr } of masters) {
    const resp = await rpc.call(addr, RequestCode.QUERY_MESSAGE, fields, undefined, [ResponseCode.QUERY_NOT_FOUND]);
    if (resp.code !== ResponseCode.SUCCESS || resp.body === undefined) continue;
    for (const msg of decodeRecords(resp.body)) {
      if (msg.topic !== topic) continue;
      const match = opts.uniqKey === true ? msg.properties.get(Prop.uniqKey) === key : keysOf(msg).includes(key);
      if (match) found.set(msg.offsetMsgId, msg);
    }
  }
  return [...found.values()].sort((a, b) => Number(a.storeTimestamp - b.storeTimestamp));
}

export function keysOf(msg: MessageExt): string[] {
  return (msg.properties.get(Prop.keys) ?? '').split(keySeparator).filter((k) => k !== '');
}

/** VIEW_MESSAGE_BY_ID: reads the record at the commitlog offset an offsetMsgId names, from its store host. */
export async function viewByOffsetMsgId(rpc: AdminRpc, offsetMsgId: string): Promise<MessageExt> {
  const { host, commitLogOffset } = decodeOffsetMsgId(offsetMsgId);
  const resp = await rpc.call(
    host,
    RequestCode.VIEW_MESSAGE_BY_ID,
    encodeViewMessageHeader({ offset: commitLogOffset }),
  );
  const msgs = decodeRecords(resp.body ?? Buffer.alloc(0));
  const msg = msgs[0];
  if (msg === undefined) throw new TsRocketError(`broker ${host} returned no message for ${offsetMsgId}`);
  return msg;
}

/**
 * Finds a message by id as mqadmin does: an offsetMsgId whose host is a known broker is read directly;
 * anything else is treated as a client UNIQ_KEY msgId and queried by key on the topic's brokers.
 */
export async function viewMessageById(rpc: AdminRpc, msgId: string, topic?: string): Promise<MessageExt[]> {
  if (!/^[0-9A-Fa-f]{32}$/.test(msgId)) throw new InvalidArgumentError(`msgId must be 32 hex characters: '${msgId}'`);
  const host = decodeOffsetMsgId(msgId).host;
  const info = await rpc.clusterInfo();
  const known = Object.values(info.brokerAddrTable).some((bd) => Object.values(bd.brokerAddrs).includes(host));
  if (known) {
    const msg = await viewByOffsetMsgId(rpc, msgId);
    if (topic === undefined || msg.topic === topic) return [msg];
  }
  if (topic === undefined) {
    throw new InvalidArgumentError(
      `'${msgId}' is not an offsetMsgId of a known broker; pass the topic (-t) to look it up as a msgId`,
    );
  }
  return queryMessages(rpc, topic, msgId.toUpperCase(), { uniqKey: true });
}

let uniqCounter = 0;
/** A client message id (UNIQ_KEY) in RocketMQ's shape: ip 4 + pid 2 + random 4 + time 4 + counter 2, hex. */
export function createUniqKey(now = Date.now()): string {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(0x7f000001, 0);
  b.writeUInt16BE(process.pid & 0xffff, 4);
  randomBytes(4).copy(b, 6);
  b.writeUInt32BE((Math.floor(now) % 0x100000000) >>> 0, 10);
  uniqCounter = (uniqCounter + 1) & 0xffff;
  b.writeUInt16BE(uniqCounter, 14);
  return b.toString('hex').toUpperCase();
}

export interface SendOptions {
  keys?: string | undefined;
  tags?: string | undefined;
  /** Only queues of this broker (brokerName). */
  brokerName?: string | undefined;
  queueId?: number | undefined;
  producerGroup?: string | undefined;
}

export interface AdminSendResult {
  /** Client id (UNIQ_KEY). */
  msgId: string;
  offsetMsgId: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
}

/** A minimal SEND_MESSAGE_V2 (310) to a writable queue of the topic, as a producer would send it. */
export async function sendMessage(
  rpc: AdminRpc,
  topic: string,
  body: Buffer,
  opts: SendOptions = {},
): Promise<AdminSendResult> {
  const route = await rpc.topicRoute(topic);
  const targets: Array<{ brokerName: string; addr: string; queueId: number }> = [];
  for (const qd of route.queueDatas) {
    if (opts.brokerName !== undefined && qd.brokerName !== opts.brokerName) continue;
    if ((qd.perm & 2) === 0) continue;
    const bd = route.brokerDatas.find((b) => b.brokerName === qd.brokerName);
    const addr = bd === undefined ? undefined : masterAddrOf(bd);
    if (addr === undefined) continue;
    for (let q = 0; q < qd.writeQueueNums; q++) targets.push({ brokerName: qd.brokerName, addr, queueId: q });
  }
  const candidates = opts.queueId === undefined ? targets : targets.filter((t) => t.queueId === opts.queueId);
  const target = candidates[Math.floor(Math.random() * candidates.length)];
  if (target === undefined)
    throw new TsRocketError(`topic '${topic}' has no writable queue${opts.brokerName ? ` on ${opts.brokerName}` : ''}`);
  const msgId = createUniqKey();
  const props: Record<string, string> = { [Prop.uniqKey]: msgId, [Prop.waitStoreMsgOk]: 'true' };
  if (opts.keys !== undefined && opts.keys !== '') props[Prop.keys] = opts.keys;
  if (opts.tags !== undefined && opts.tags !== '') props[Prop.tags] = opts.tags;
  const resp = await rpc.call(
    target.addr,
    RequestCode.SEND_MESSAGE_V2,
    encodeSendHeaderV2({
      producerGroup: opts.producerGroup ?? toolsProducerGroup,
      topic,
      queueId: target.queueId,
      sysFlag: 0,
      bornTimestamp: Date.now(),
      flag: 0,
      properties: encodeProperties(props),
      reconsumeTimes: 0,
      batch: false,
    }),
    body,
  );
  const sent = decodeSendResponseHeader(resp);
  let offsetMsgId = sent.msgId ?? '';
  if (offsetMsgId === msgId) {
    // RocketMQ answers the offsetMsgId here; a broker that echoes the client id makes us look the record up.
    const found = await queryMessages(rpc, topic, msgId, { uniqKey: true }).catch(() => []);
    offsetMsgId = found[0]?.offsetMsgId ?? '';
  }
  return {
    msgId,
    offsetMsgId,
    brokerName: target.brokerName,
    queueId: sent.queueId ?? target.queueId,
    queueOffset: Number(sent.queueOffset ?? -1n),
  };
}

export const PullStatus = {
  FOUND: 'FOUND',
  NO_NEW_MSG: 'NO_NEW_MSG',
  NO_MATCHED_MSG: 'NO_MATCHED_MSG',
  OFFSET_ILLEGAL: 'OFFSET_ILLEGAL',
} as const;
export type PullStatus = (typeof PullStatus)[keyof typeof PullStatus];

export interface AdminPullResult {
  status: PullStatus;
  messages: MessageExt[];
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
}

/** One PULL_MESSAGE (11) without suspend or offset commit, subscription `*`. */
export async function pullOnce(
  rpc: AdminRpc,
  addr: string,
  topic: string,
  queueId: number,
  offset: number,
  maxNums = pullBatchMax,
  group = toolsConsumerGroup,
): Promise<AdminPullResult> {
  const resp = await rpc.call(
    addr,
    RequestCode.PULL_MESSAGE,
    encodePullHeader({
      consumerGroup: group,
      topic,
      queueId,
      queueOffset: BigInt(offset),
      maxMsgNums: maxNums,
      sysFlag: PullSysFlag.subscription, // no commit, no suspend
      commitOffset: 0n,
      suspendTimeoutMillis: 0,
      subscription: '*',
      subVersion: Date.now(),
      expressionType: 'TAG',
    }),
    undefined,
    [ResponseCode.PULL_NOT_FOUND, ResponseCode.PULL_RETRY_IMMEDIATELY, ResponseCode.PULL_OFFSET_MOVED],
  );
  const pulled = decodePullResponseHeader(resp);
  const num = (v: bigint | undefined, d: number) => (v === undefined ? d : Number(v));
  const status: PullStatus =
    resp.code === ResponseCode.SUCCESS
      ? PullStatus.FOUND
      : resp.code === ResponseCode.PULL_NOT_FOUND
        ? PullStatus.NO_NEW_MSG
        : resp.code === ResponseCode.PULL_RETRY_IMMEDIATELY
          ? PullStatus.NO_MATCHED_MSG
          : PullStatus.OFFSET_ILLEGAL;
  const messages = status === PullStatus.FOUND && resp.body !== undefined ? decodeRecords(resp.body) : [];
  return {
    status,
    messages,
    nextBeginOffset: num(pulled.nextBeginOffset, offset),
    minOffset: num(pulled.minOffset, 0),
    maxOffset: num(pulled.maxOffset, 0),
  };
}
