import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientInstance } from '../../src/client/client-instance.js';
import type { MessageQueue } from '../../src/client/message-queue.js';
import type { OffsetStore } from '../../src/client/offset-store.js';
import { computeStartOffset } from '../../src/client/start-offset.js';

const calls: string[] = [];
const instance = {
  masterAddr: () => '127.0.0.1:10911',
  updateRoute: async () => undefined,
  api: {
    getMaxOffset: async () => {
      calls.push('max');
      return 42n;
    },
    searchOffset: async (_addr: string, _topic: string, _queueId: number, ts: number) => {
      calls.push(`search:${ts}`);
      return 7n;
    },
  },
} as unknown as ClientInstance;

function storeWith(offset: bigint | undefined): OffsetStore {
  return { storedOffset: async () => offset } as unknown as OffsetStore;
}

const mq: MessageQueue = { topic: 'T', brokerName: 'b', queueId: 0 };

test('a committed offset wins; otherwise consumeFromWhere decides', async () => {
  calls.length = 0;
  assert.equal(await computeStartOffset(instance, storeWith(5n), mq, 'CONSUME_FROM_LAST_OFFSET', 0), 5n);
  assert.equal(await computeStartOffset(instance, storeWith(undefined), mq, 'CONSUME_FROM_LAST_OFFSET', 0), 42n);
  assert.equal(await computeStartOffset(instance, storeWith(undefined), mq, 'CONSUME_FROM_FIRST_OFFSET', 0), 0n);
  assert.equal(await computeStartOffset(instance, storeWith(undefined), mq, 'CONSUME_FROM_TIMESTAMP', 1234), 7n);
  assert.deepEqual(calls, ['max', 'search:1234']);
});

test('retry queues are always read from the start', async () => {
  const retry = { ...mq, topic: '%RETRY%g' };
  assert.equal(await computeStartOffset(instance, storeWith(undefined), retry, 'CONSUME_FROM_LAST_OFFSET', 0), 0n);
  assert.equal(await computeStartOffset(instance, storeWith(3n), retry, 'CONSUME_FROM_LAST_OFFSET', 0), 3n);
});
