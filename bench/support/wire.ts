/**
 * Load over the real wire: batch sends through the SDK Producer with a bounded in-flight window, and raw
 * PULL_MESSAGE requests that count stored records by walking TOTALSIZE (no per-message decode, so the consumer
 * side costs little and the broker's read path is what is measured).
 */
import type { Message, Producer } from '../../src/client/index.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { decodePullResponseHeader, encodePullHeader } from '../../src/remoting/protocol/pull.js';
import { encodeCreateTopicHeader } from '../../src/remoting/protocol/topic-admin.js';

export interface SendWindowOptions {
  topic: string;
  bodyBytes: number;
  /** Messages per producer.send([...]). */
  batch: number;
  /** Batches in flight at once. */
  window: number;
  /** Stop after this many messages… */
  count?: number;
  /** …or at this performance.now() deadline, whichever comes first. */
  untilMs?: number;
  /** Called after every acked batch with the running total. */
  onAck?: (acked: number) => void;
}

export interface SendWindowResult {
  acked: number;
  failed: number;
  ms: number;
  firstError: Error | undefined;
}

/** Runs `window` senders, each awaiting one batch send at a time. */
export async function sendWindow(producer: Producer, o: SendWindowOptions): Promise<SendWindowResult> {
  const body = Buffer.alloc(o.bodyBytes, 0x62);
  const msgs: Message[] = Array.from({ length: o.batch }, () => ({ topic: o.topic, body }));
  let issued = 0;
  const out: SendWindowResult = { acked: 0, failed: 0, ms: 0, firstError: undefined };
  const claim = (): number => {
    if (o.untilMs !== undefined && performance.now() >= o.untilMs) return 0;
    const n = o.count === undefined ? o.batch : Math.min(o.batch, o.count - issued);
    issued += Math.max(0, n);
    return n;
  };
  const t0 = performance.now();
  const sender = async () => {
    for (let n = claim(); n > 0; n = claim()) {
      try {
        await producer.send(n === msgs.length ? msgs : msgs.slice(0, n));
        out.acked += n;
        o.onAck?.(out.acked);
      } catch (err) {
        out.failed += n;
        out.firstError ??= err as Error;
        if (out.failed > 100 * o.batch) return;
      }
    }
  };
  await Promise.all(Array.from({ length: o.window }, sender));
  out.ms = performance.now() - t0;
  return out;
}

export interface RawPull {
  code: number;
  remark: string | undefined;
  nextBeginOffset: bigint;
  maxOffset: bigint;
  records: number;
  bytes: number;
  /** Offset of the first record in the body (its QUEUEOFFSET field), if any. */
  firstQueueOffset: bigint | undefined;
  body: Buffer | undefined;
}

const queueOffsetPos = 20;

/** One PULL_MESSAGE without suspend; throws on a transport error. */
export async function pullRaw(
  rc: RemotingClient,
  brokerAddr: string,
  h: { group: string; topic: string; queueId: number; offset: bigint; maxMsgNums: number },
  timeoutMs = 10_000,
): Promise<RawPull> {
  const req = createRequest(
    RequestCode.PULL_MESSAGE,
    encodePullHeader({
      consumerGroup: h.group,
      topic: h.topic,
      queueId: h.queueId,
      queueOffset: h.offset,
      maxMsgNums: h.maxMsgNums,
      sysFlag: 0,
      commitOffset: 0n,
      suspendTimeoutMillis: 0,
      subscription: '*',
      subVersion: 0,
      expressionType: 'TAG',
    }),
  );
  const resp = await rc.invoke(brokerAddr, req, timeoutMs);
  let records = 0;
  let bytes = 0;
  const body = resp.code === ResponseCode.SUCCESS ? resp.body : undefined;
  if (body !== undefined) {
    for (let p = 0; p + 4 <= body.length; ) {
      const size = body.readInt32BE(p);
      if (size <= 0 || p + size > body.length) throw new Error(`pull body: bad TOTALSIZE ${size} at ${p}`);
      records++;
      p += size;
    }
    bytes = body.length;
  }
  const f = decodePullResponseHeader(resp);
  return {
    code: resp.code,
    remark: resp.remark,
    nextBeginOffset: f.nextBeginOffset ?? h.offset,
    maxOffset: f.maxOffset ?? 0n,
    records,
    bytes,
    firstQueueOffset: body !== undefined && body.length >= 28 ? body.readBigInt64BE(queueOffsetPos) : undefined,
    body,
  };
}

export interface DrainResult {
  records: number;
  bytes: number;
  ms: number;
  pulls: number;
}

/**
 * Pulls queues 0..queues-1 from offset 0 in parallel (one pull in flight per queue, like a consumer) until
 * `bytesMax` bytes were read in total or every queue reached its end.
 */
export async function drainQueues(
  rc: RemotingClient,
  brokerAddr: string,
  o: { group: string; topic: string; queues: number; maxMsgNums: number; bytesMax: number },
): Promise<DrainResult> {
  const out: DrainResult = { records: 0, bytes: 0, ms: 0, pulls: 0 };
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.queues }, async (_, queueId) => {
      let offset = 0n;
      while (out.bytes < o.bytesMax) {
        const r = await pullRaw(rc, brokerAddr, { ...o, queueId, offset, maxMsgNums: o.maxMsgNums });
        out.pulls++;
        if (r.code !== ResponseCode.SUCCESS) break;
        out.records += r.records;
        out.bytes += r.bytes;
        offset = r.nextBeginOffset;
      }
    }),
  );
  out.ms = performance.now() - t0;
  return out;
}

/** UPDATE_AND_CREATE_TOPIC on one broker (read = write = `queues`, perm RW). */
export async function createTopic(rc: RemotingClient, brokerAddr: string, topic: string, queues: number) {
  const req = createRequest(
    RequestCode.UPDATE_AND_CREATE_TOPIC,
    encodeCreateTopicHeader({ topic, readQueueNums: queues, writeQueueNums: queues }),
  );
  const resp = await rc.invoke(brokerAddr, req, 5000);
  if (resp.code !== ResponseCode.SUCCESS) throw new Error(`create topic ${topic}: ${resp.code} ${resp.remark}`);
}
