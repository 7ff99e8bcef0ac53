/**
 * Transaction ends batched per turn (end-batch.ts): the commits of one queue go out as one batch put and one op
 * record names every half closed; a refused batch falls back to one put per message; an op record stays under
 * opBodyBytesMax; the first answer for a transaction decides.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClosedHalves } from '../../../src/broker/transaction/closed-halves.js';
import { opBodyBytesMax, TransactionEndBatch } from '../../../src/broker/transaction/end-batch.js';
import { opOffsetsOf } from '../../../src/broker/transaction/half-message.js';
import type { FoundHalf } from '../../../src/broker/transaction/resolve-half.js';
import type { MessageExt } from '../../../src/common/message.js';
import { SystemTopic } from '../../../src/common/topics.js';
import { ResponseCode } from '../../../src/remoting/codes.js';
import { type MessageInput, type PutResult, PutStatus } from '../../../src/store/types.js';

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
function harness(statusOf: (msgs: readonly MessageInput[]) => PutStatus = () => PutStatus.PUT_OK) {
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
