import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConsumeResult } from '../../src/client/consume-service.js';
import type { MessageQueue } from '../../src/client/message-queue.js';
import type { OffsetStore } from '../../src/client/offset-store.js';
import { ConsumeOrderlyService } from '../../src/client/orderly-consume-service.js';
import { ProcessQueue } from '../../src/client/process-queue.js';
import type { QueueLocks } from '../../src/client/queue-locks.js';
import type { ReceivedMessage } from '../../src/client/received-message.js';

const mq = (queueId: number): MessageQueue => ({ topic: 'T', brokerName: 'b', queueId });
const msg = (queueId: number, offset: number) =>
  ({
    queueId,
    queueOffset: BigInt(offset),
    body: Buffer.from(`m${offset}`),
    msgId: `q${queueId}-${offset}`,
    reconsumeTimes: 0,
  }) as ReceivedMessage;

function recordingStore() {
  const updates = new Map<number, bigint[]>();
  const store = {
    update: (q: MessageQueue, offset: bigint) => updates.set(q.queueId, [...(updates.get(q.queueId) ?? []), offset]),
  } as unknown as OffsetStore;
  return { store, updates };
}

const until = async (cond: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
};

const base = { concurrency: 8, lockLeaseMs: 30_000, maxReconsumeTimes: 2_147_483_647, suspendMs: 10 };

test('a failed message suspends its queue and is retried locally; nothing later passes it', async () => {
  const { store, updates } = recordingStore();
  const calls: string[] = [];
  let failures = 0;
  const service = new ConsumeOrderlyService({
    ...base,
    offsets: store,
    handler: () => (m) => {
      calls.push(`${m.queueOffset}:${m.reconsumeTimes}`);
      if (m.queueOffset === 3n && failures < 2) {
        failures++;
        if (failures === 1) throw new Error('boom');
        return ConsumeResult.RECONSUME_LATER;
      }
      return undefined;
    },
  });
  const pq = new ProcessQueue<ReceivedMessage>();
  service.submit(mq(0), pq, pq.add([0, 1, 2, 3, 4, 5].map((o) => msg(0, o))));
  await until(() => pq.count === 0);
  assert.deepEqual(calls, ['0:0', '1:0', '2:0', '3:0', '3:1', '3:2', '4:0', '5:0']);
  assert.deepEqual(updates.get(0), [1n, 2n, 3n, 4n, 5n, 6n], 'each commit only past consumed messages');
  // Messages added later are taken by a new worker, still in order.
  service.submit(mq(0), pq, pq.add([6, 7].map((o) => msg(0, o))));
  await until(() => pq.count === 0);
  assert.deepEqual(calls.slice(-2), ['6:0', '7:0']);
});

test('past maxReconsumeTimes the message goes to the DLQ and the queue moves on; a failed DLQ send holds it', async () => {
  const { store, updates } = recordingStore();
  const calls: string[] = [];
  const dlq: string[] = [];
  let dlqAnswers = [false, true];
  const service = new ConsumeOrderlyService({
    ...base,
    maxReconsumeTimes: 2,
    offsets: store,
    handler: () => (m) => {
      calls.push(`${m.queueOffset}:${m.reconsumeTimes}`);
      return m.queueOffset === 1n ? ConsumeResult.RECONSUME_LATER : undefined;
    },
    sendToDlq: async (m) => {
      dlq.push(`${m.queueOffset}:${m.reconsumeTimes}`);
      const [answer, ...rest] = dlqAnswers;
      dlqAnswers = rest;
      return answer ?? true;
    },
  });
  const pq = new ProcessQueue<ReceivedMessage>();
  service.submit(mq(0), pq, pq.add([0, 1, 2].map((o) => msg(0, o))));
  await until(() => pq.count === 0);
  // rt 0, 1, 2 fail; at 2 (= max) the DLQ send fails, so it is consumed once more (rt 3) and then stored.
  assert.deepEqual(calls, ['0:0', '1:0', '1:1', '1:2', '1:3', '2:0']);
  assert.deepEqual(dlq, ['1:2', '1:3']);
  assert.deepEqual(updates.get(0), [1n, 2n, 3n]);
});

test('queues are consumed in parallel, each one message at a time in order', async () => {
  const { store } = recordingStore();
  const seen = new Map<number, number[]>();
  const running = new Map<number, number>();
  let parallelQueuesPeak = 0;
  const service = new ConsumeOrderlyService({
    ...base,
    offsets: store,
    handler: () => async (m) => {
      running.set(m.queueId, (running.get(m.queueId) ?? 0) + 1);
      assert.equal(running.get(m.queueId), 1, 'one message per queue at a time');
      parallelQueuesPeak = Math.max(parallelQueuesPeak, [...running.values()].filter((n) => n > 0).length);
      await new Promise((r) => setTimeout(r, 1));
      seen.set(m.queueId, [...(seen.get(m.queueId) ?? []), Number(m.queueOffset)]);
      running.set(m.queueId, (running.get(m.queueId) ?? 1) - 1);
    },
  });
  const pqs = [0, 1, 2].map(() => new ProcessQueue<ReceivedMessage>());
  for (const [i, pq] of pqs.entries()) {
    for (let o = 0; o < 20; o += 5) {
      service.submit(mq(i), pq, pq.add([o, o + 1, o + 2, o + 3, o + 4].map((x) => msg(i, x))));
    }
  }
  await until(() => pqs.every((pq) => pq.count === 0));
  for (const i of [0, 1, 2]) assert.deepEqual(seen.get(i), [...Array(20).keys()]);
  assert.ok(parallelQueuesPeak > 1, 'different queues overlap');
});

test('clustering: a queue without a live lock is not consumed until it is locked again', async () => {
  const { store } = recordingStore();
  const calls: number[] = [];
  let grant = false;
  let lockCalls = 0;
  const locks = {
    lock: async (_q: MessageQueue, pq: ProcessQueue<ReceivedMessage>) => {
      lockCalls++;
      pq.locked = grant;
      if (grant) pq.lastLockMs = Date.now();
      return grant;
    },
  } as unknown as QueueLocks;
  const service = new ConsumeOrderlyService({
    ...base,
    offsets: store,
    locks,
    handler: () => (m) => {
      calls.push(Number(m.queueOffset));
    },
  });
  const pq = new ProcessQueue<ReceivedMessage>();
  pq.locked = true;
  pq.lastLockMs = Date.now() - 31_000; // the lease the client trusts (30 s) has run out
  service.submit(mq(0), pq, pq.add([0, 1].map((o) => msg(0, o))));
  await until(() => lockCalls === 1);
  assert.deepEqual(calls, [], 'nothing consumed while the lock is not live');
  grant = true;
  await until(() => pq.count === 0, 8000);
  assert.deepEqual(calls, [0, 1]);
});

test('settled() waits for the in-flight message; a dropped queue consumes nothing more', async () => {
  const { store, updates } = recordingStore();
  let release: () => void = () => undefined;
  const calls: number[] = [];
  const service = new ConsumeOrderlyService({
    ...base,
    offsets: store,
    handler: () => async (m) => {
      calls.push(Number(m.queueOffset));
      await new Promise<void>((r) => {
        release = r;
      });
    },
  });
  const pq = new ProcessQueue<ReceivedMessage>();
  service.submit(mq(0), pq, pq.add([0, 1, 2].map((o) => msg(0, o))));
  await until(() => calls.length === 1);
  pq.dropped = true;
  let settled = false;
  const s = service.settled(pq).then(() => {
    settled = true;
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false);
  release();
  await s;
  assert.deepEqual(updates.get(0), [1n], 'the in-flight message is committed');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(calls, [0]);
  assert.equal(service.pending, 0);
});

test('per-key scope: keys of one queue run in parallel, each in order; a failing key holds back only itself', async () => {
  const { store, updates } = recordingStore();
  const calls: string[] = [];
  const running = new Map<string, number>();
  let overlapAcrossKeys = false;
  let failures = 0;
  let beforeRetry: bigint[] = [];
  const keyed = (offset: number, key: string) => {
    const m = msg(0, offset);
    (m as { key?: string }).key = key;
    return m;
  };
  const keyOf = (m: ReceivedMessage) => (m as { key?: string }).key ?? '';
  const service = new ConsumeOrderlyService({
    ...base,
    suspendMs: 30,
    offsets: store,
    keyOf,
    handler: () => async (m) => {
      const k = keyOf(m);
      assert.equal(running.get(k) ?? 0, 0, `key ${k}: one message at a time`);
      running.set(k, 1);
      if ([...running.values()].filter((n) => n > 0).length > 1) overlapAcrossKeys = true;
      await new Promise((r) => setTimeout(r, 2));
      running.set(k, 0);
      calls.push(`${k}${m.queueOffset}`);
      if (m.queueOffset === 0n && failures === 1) beforeRetry = [...(updates.get(0) ?? [])];
      if (m.queueOffset === 0n && failures < 1) {
        failures++;
        return ConsumeResult.RECONSUME_LATER;
      }
      return undefined;
    },
  });
  const pq = new ProcessQueue<ReceivedMessage>();
  // X at offsets 0, 2, 4; Y at 1, 3, 5. X0 fails once and waits 30 ms.
  service.submit(mq(0), pq, pq.add([0, 1, 2, 3, 4, 5].map((o) => keyed(o, o % 2 === 0 ? 'X' : 'Y'))));
  await until(() => pq.count === 0);
  const ofKey = (k: string) => calls.filter((c) => c.startsWith(k));
  assert.deepEqual(ofKey('X'), ['X0', 'X0', 'X2', 'X4']);
  assert.deepEqual(ofKey('Y'), ['Y1', 'Y3', 'Y5']);
  assert.ok(calls.indexOf('Y5') < calls.lastIndexOf('X0'), 'Y went on while X0 waited for its retry');
  assert.ok(overlapAcrossKeys, 'two keys in the handler at once');
  // Y's messages were committed while X0 waited, but no commit passed offset 0 until X0 succeeded.
  assert.ok(beforeRetry.length > 0 && beforeRetry.every((o) => o === 0n), `commits before X0's retry: ${beforeRetry}`);
  const commits = updates.get(0) ?? [];
  assert.equal(commits.at(-1), 6n);
});

test('stop(): no chain starts another message', async () => {
  const { store } = recordingStore();
  const calls: number[] = [];
  const service = new ConsumeOrderlyService({
    ...base,
    offsets: store,
    handler: () => async (m) => {
      calls.push(Number(m.queueOffset));
      await new Promise((r) => setTimeout(r, 10));
    },
  });
  const pq = new ProcessQueue<ReceivedMessage>();
  service.submit(mq(0), pq, pq.add([0, 1, 2].map((o) => msg(0, o))));
  await until(() => calls.length === 1);
  service.stop();
  await service.drain(1000);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(calls, [0]);
});
