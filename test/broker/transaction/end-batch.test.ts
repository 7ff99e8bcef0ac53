/**
 * Transaction ends batched per turn (end-batch.ts): the commits of one queue go out as one batch put and one op
 * record names every half closed; a refused batch falls back to one put per message; an op record stays under
 * opBodyBytesMax; the first answer for a transaction decides.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClosedHalves } from '../../../src/broker/transaction/closed-halves.js';
import { opBodyBytesMax, TransactionEndBatch } from '../../../src/broker/transaction/end-batch.js';
import { opOffsetsOf, realTargetOf } from '../../../src/broker/transaction/half-message.js';
import type { FoundHalf } from '../../../src/broker/transaction/resolve-half.js';
import type { MessageExt } from '../../../src/common/message.js';
import { encodeProperties } from '../../../src/common/properties.js';
import { decodeRecord, encodeRecord } from '../../../src/common/record.js';
import { SystemTopic } from '../../../src/common/topics.js';
import { ResponseCode } from '../../../src/remoting/codes.js';
import { EndTransactionType } from '../../../src/remoting/protocol/transaction.js';
import { type MessageInput, type PutResult, PutStatus } from '../../../src/store/types.js';
import { captureLogs } from '../../remoting/helpers.js';

function found(queueOffset: bigint, queueId: number, body = 'b'): FoundHalf {
  const half: MessageExt = {
    topic: SystemTopic.transHalf,
    queueId: 0,
    flag: 0,
    queueOffset,
    commitLogOffset: 1000n + queueOffset,
    storeSize: 200,
    sysFlag: 0,
    bodyCRC: 0,
    bornTimestamp: 5n,
    bornHost: '10.0.0.1:1',
    storeTimestamp: 6n,
    storeHost: '10.0.0.2:10911',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    body: Buffer.from(body),
    properties: new Map([
      ['REAL_TOPIC', 'Orders'],
      ['REAL_QID', String(queueId)],
      ['TRAN_MSG', 'true'],
      ['PGROUP', 'pg'],
    ]),
    offsetMsgId: 'X',
  };
  return { half, target: { topic: 'Orders', queueId } };
}

/** A put pipeline that records every batch and answers with `statusOf(batch)`. */
function harness(
  statusOf: (msgs: readonly MessageInput[]) => PutStatus = () => PutStatus.PUT_OK,
  log?: { bytes: Buffer; reads: number[]; lookups: bigint[] },
) {
  const puts: MessageInput[][] = [];
  const closed = new ClosedHalves();
  const batch = new TransactionEndBatch({
    closedHalves: closed,
    put: {
      rewrite: () => undefined,
      putRewrittenBatch: async (msgs) => {
        puts.push([...msgs]);
        return { status: statusOf(msgs), wroteBytes: 1 } as PutResult;
      },
    },
    recordPut: () => undefined,
    brokerAddr: () => '127.0.0.1:10911',
    readLogNow:
      log === undefined
        ? undefined
        : (offset, len) => {
            log.reads.push(offset);
            // Bytes from 4000 on are "cold": not read now, the caller takes the async lookup.
            return offset >= 4000 ? undefined : log.bytes.subarray(offset, Math.min(offset + len, 4000));
          },
    findHalf: async (offset) => {
      log?.lookups.push(offset);
      const at = Number(offset);
      if (log === undefined || at >= log.bytes.length) return 'Find prepared transaction message failed';
      // No record there: the lookup fails (a store error), which must fail only its own end.
      const half = decodeRecord(log.bytes, at).msg;
      return { half, target: realTargetOf(half) as { topic: string; queueId: number } };
    },
  });
  const ops = () => puts.filter((p) => p[0]?.topic === SystemTopic.transOpHalf);
  const commits = () => puts.filter((p) => p[0]?.topic === 'Orders');
  return { batch, puts, closed, ops, commits };
}

test('ends of one turn: one batch put per queue, one op record naming every half', async () => {
  const h = harness();
  const answers = await Promise.all(
    Array.from({ length: 40 }, (_, i) => h.batch.end(found(BigInt(i), i % 2), i % 4 !== 3)),
  );
  assert.ok(answers.every((a) => a.code === ResponseCode.SUCCESS));
  assert.deepEqual(
    h.commits().map((b) => [b[0]?.queueId, b.length]),
    [
      [0, 20],
      [1, 10],
    ],
  );
  assert.equal(h.ops().length, 1);
  const named = opOffsetsOf(h.ops()[0]?.[0]?.body as Buffer).sort((x, y) => Number(x - y));
  assert.deepEqual(
    named,
    Array.from({ length: 40 }, (_, i) => BigInt(i)),
  );
  // The committed messages keep their arrival order within a queue.
  assert.deepEqual(
    h.commits()[0]?.map((m) => m.preparedTransactionOffset),
    Array.from({ length: 20 }, (_, i) => 1000n + BigInt(i * 2)),
  );
});

test('a refused batch is retried one by one: only the bad message fails, and its half is not marked done', async () => {
  const h = harness((msgs) =>
    msgs.some((m) => m.body.toString() === 'bad') ? PutStatus.MESSAGE_ILLEGAL : PutStatus.PUT_OK,
  );
  const answers = await Promise.all([
    h.batch.end(found(1n, 0), true),
    h.batch.end(found(2n, 0, 'bad'), true),
    h.batch.end(found(3n, 0), true),
  ]);
  assert.deepEqual(
    answers.map((a) => a.code),
    [ResponseCode.SUCCESS, ResponseCode.MESSAGE_ILLEGAL, ResponseCode.SUCCESS],
  );
  assert.deepEqual(opOffsetsOf(h.ops()[0]?.[0]?.body as Buffer), [1n, 3n]);
  // Released: a later answer for the failed one may still commit it.
  assert.equal(h.closed.has(2n), false);
  assert.equal(h.closed.has(1n), true);
});

test('commits the store refuses are logged once per turn, with the reason: a oneway END has nobody else to tell', async () => {
  const logs = captureLogs();
  const h = harness((msgs) =>
    msgs.some((m) => m.body.toString() === 'bad') ? PutStatus.MESSAGE_ILLEGAL : PutStatus.PUT_OK,
  );
  await Promise.all([
    h.batch.end(found(11n, 0, 'bad'), true),
    h.batch.end(found(12n, 0, 'bad'), true),
    h.batch.end(found(13n, 0), true),
  ]);
  const warned = logs.filter((l) => l.includes('commits not stored'));
  assert.equal(warned.length, 1, logs.join('\n'));
  assert.match(warned[0] as string, /commits=2/);
});

test('a failed op record answers its ends with the store error; the commits stay stored', async () => {
  const h = harness((msgs) =>
    msgs[0]?.topic === SystemTopic.transOpHalf ? PutStatus.SERVICE_NOT_AVAILABLE : PutStatus.PUT_OK,
  );
  const [a] = await Promise.all([h.batch.end(found(7n, 1), true)]);
  assert.equal(a?.code, ResponseCode.SERVICE_NOT_AVAILABLE);
  assert.equal(h.commits().length, 1);
});

test('op records stay under opBodyBytesMax; the second answer for a half commits nothing more', async () => {
  const h = harness();
  const base = 10n ** 15n;
  const n = 600;
  await Promise.all(Array.from({ length: n }, (_, i) => h.batch.end(found(base + BigInt(i), 0), true)));
  await h.batch.end(found(base, 0), true);
  const ops = h.ops();
  assert.ok(ops.length >= 2, 'split in several records');
  for (const op of ops) assert.ok((op[0]?.body.length ?? 0) <= opBodyBytesMax);
  const named = ops.flatMap((op) => opOffsetsOf(op[0]?.body as Buffer));
  assert.equal(named.length, n + 1);
  assert.equal(
    h.commits().reduce((x, b) => x + b.length, 0),
    n,
  );
});

/** A log of `n` half records (queue offsets 0..n-1, group pg), each at its CommitLog offset. */
function halfLog(n: number): { bytes: Buffer; offsets: bigint[] } {
  // offsets[n] is where the next record would start.
  const parts: Buffer[] = [];
  const offsets: bigint[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const props = new Map([
      ['REAL_TOPIC', 'Orders'],
      ['REAL_QID', String(i % 2)],
      ['TRAN_MSG', 'true'],
      ['PGROUP', 'pg'],
      ['UNIQ_KEY', `U${i}`],
    ]);
    const rec = encodeRecord(
      {
        topic: SystemTopic.transHalf,
        queueId: 0,
        flag: 0,
        body: Buffer.alloc(300, i),
        properties: encodeProperties(props),
        sysFlag: 0x4,
        bornTimestamp: 5n,
        bornHost: '10.0.0.1:1',
        reconsumeTimes: 0,
        preparedTransactionOffset: 0n,
      },
      BigInt(i),
      BigInt(at),
      6n,
      '10.0.0.2:10911',
    );
    parts.push(rec);
    offsets.push(BigInt(at));
    at += rec.length;
  }
  offsets.push(BigInt(at));
  return { bytes: Buffer.concat(parts), offsets };
}

function header(offsets: bigint[], i: number, over: Partial<Parameters<TransactionEndBatch['endByHeader']>[0]> = {}) {
  return {
    producerGroup: 'pg',
    tranStateTableOffset: BigInt(i),
    commitLogOffset: offsets[i] as bigint,
    commitOrRollback: EndTransactionType.commit,
    fromTransactionCheck: false,
    msgId: `U${i}`,
    ...over,
  };
}

test('END_TRANSACTIONs of a turn: halves read as bytes with one read per run, cold ones looked up; checks answered', async () => {
  const log = { ...halfLog(20), reads: [] as number[], lookups: [] as bigint[] };
  const h = harness(undefined, log);
  // Out of order, as several producers' answers arrive; records from offset 4000 on are cold.
  const order = [5, 1, 0, 19, 3, 2, 4, 18, 6, 7];
  const answers = await Promise.all(order.map((i) => h.batch.endByHeader(header(log.offsets, i), true)));
  assert.ok(answers.every((a) => a?.code === ResponseCode.SUCCESS));
  const cold = order.filter((i) => Number(log.offsets[i + 1]) > 4000).map((i) => log.offsets[i]);
  assert.deepEqual(log.lookups.sort(), [...cold].sort(), 'only the cold halves go the async way');
  const hotReads = log.reads.filter((o) => o < 4000);
  assert.ok(hotReads.length <= 2, `one read for the nearby hot halves (${hotReads.length})`);
  const committed = h.commits().flatMap((b) => b.map((m) => m.uniqKey));
  assert.deepEqual(committed.sort(), order.map((i) => `U${i}`).sort());
  assert.equal(opOffsetsOf(h.ops()[0]?.[0]?.body as Buffer).length, order.length);

  // A oneway answer waits for nothing; wrong group / offsets and a bad offset are answered, nothing stored.
  assert.equal(
    h.batch.endByHeader(header(log.offsets, 8, { commitOrRollback: EndTransactionType.rollback }), false),
    undefined,
  );
  const bad = await Promise.all([
    h.batch.endByHeader(header(log.offsets, 9, { producerGroup: 'other' }), true),
    h.batch.endByHeader(header(log.offsets, 10, { tranStateTableOffset: 99n }), true),
    h.batch.endByHeader(header(log.offsets, 11, { commitLogOffset: 1n }), true),
    h.batch.endByHeader(header(log.offsets, 12), true),
  ]);
  assert.deepEqual(
    bad.slice(0, 2).map((a) => a?.remark),
    ['The producer group wrong', 'The transaction state table offset wrong'],
  );
  assert.match(String(bad[2]?.remark), /^Find prepared transaction message failed/);
  assert.equal(bad[3]?.code, ResponseCode.SUCCESS, 'a failed lookup fails only its own end');
  assert.equal(h.commits().flat().length, order.length + 1, 'nothing else committed');
  for (let turn = 0; turn < 100 && !h.closed.has(8n); turn++) await new Promise((ok) => setImmediate(ok));
  assert.ok(h.closed.has(8n), 'the oneway rollback closed its half');
});
