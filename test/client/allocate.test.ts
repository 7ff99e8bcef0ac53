import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AllocateStrategy,
  allocateAveragely,
  allocateAveragelyByCircle,
  allocateConsistentHash,
  queueRingKey,
  ringHash,
} from '../../src/client/allocate.js';
import { compareQueues, type MessageQueue, queueKey } from '../../src/client/message-queue.js';

function queues(n: number, brokers = ['broker-a']): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const brokerName of brokers) for (let i = 0; i < n; i++) out.push({ topic: 'T', brokerName, queueId: i });
  return out.sort(compareQueues);
}

const ids = (mqs: MessageQueue[]) => mqs.map((q) => q.queueId);

function assertPartition(strategy: AllocateStrategy, mqAll: MessageQueue[], cids: string[]): MessageQueue[][] {
  const parts = cids.map((cid) => strategy(cid, mqAll, cids));
  const all = parts.flat().map(queueKey);
  assert.equal(all.length, mqAll.length, 'every queue is allocated once');
  assert.equal(new Set(all).size, mqAll.length, 'no queue is allocated twice');
  return parts;
}

test('averagely gives contiguous blocks, extra queues to the first members', () => {
  const mqAll = queues(8);
  assert.deepEqual(assertPartition(allocateAveragely, mqAll, ['c1', 'c2']).map(ids), [
    [0, 1, 2, 3],
    [4, 5, 6, 7],
  ]);
  assert.deepEqual(assertPartition(allocateAveragely, mqAll, ['c1', 'c2', 'c3']).map(ids), [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7],
  ]);
  // More members than queues: one each, the rest idle.
  assert.deepEqual(assertPartition(allocateAveragely, queues(2), ['a', 'b', 'c']).map(ids), [[0], [1], []]);
  assert.deepEqual(allocateAveragely('stranger', mqAll, ['c1', 'c2']), []);
  assert.deepEqual(allocateAveragely('c1', [], ['c1']), []);
});

test('averagely by circle deals queues round-robin', () => {
  const parts = assertPartition(allocateAveragelyByCircle, queues(8), ['c1', 'c2', 'c3']);
  assert.deepEqual(parts.map(ids), [
    [0, 3, 6],
    [1, 4, 7],
    [2, 5],
  ]);
  assert.deepEqual(allocateAveragelyByCircle('x', queues(8), ['c1']), []);
});

test('consistent hash uses MD5 of the Java MessageQueue string and moves few queues on change', () => {
  // MD5("a") = 0cc175b9…: the first 4 bytes, unsigned.
  assert.equal(ringHash('a'), 0x0cc175b9);
  assert.equal(
    queueRingKey({ topic: 'T', brokerName: 'b', queueId: 3 }),
    'MessageQueue [topic=T, brokerName=b, queueId=3]',
  );
  const strategy = allocateConsistentHash();
  const mqAll = queues(16, ['broker-a', 'broker-b']);
  const three = ['10.0.0.1@1', '10.0.0.2@1', '10.0.0.3@1'];
  const before = assertPartition(strategy, mqAll, three);
  const after = assertPartition(strategy, mqAll, three.slice(0, 2));
  // Queues of the members that stayed stay with them.
  for (const i of [0, 1]) {
    const kept = new Set((after[i] as MessageQueue[]).map(queueKey));
    for (const mq of before[i] as MessageQueue[])
      assert.ok(kept.has(queueKey(mq)), `${queueKey(mq)} stays with member ${i}`);
  }
  assert.deepEqual(strategy('nobody', mqAll, three), []);
});
