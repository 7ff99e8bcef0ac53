import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConsumeResult, ConsumeService } from '../../src/client/consume-service.js';
import type { MessageQueue } from '../../src/client/message-queue.js';
import type { OffsetStore } from '../../src/client/offset-store.js';
import { ProcessQueue } from '../../src/client/process-queue.js';
import type { ReceivedMessage } from '../../src/client/received-message.js';

const mq: MessageQueue = { topic: 'T', brokerName: 'b', queueId: 0 };
const msg = (offset: number) =>
  ({ queueOffset: BigInt(offset), body: Buffer.from(`m${offset}`), msgId: `id${offset}` }) as ReceivedMessage;

function recordingStore(): { store: OffsetStore; updates: bigint[] } {
  const updates: bigint[] = [];
  const store = { update: (_mq: MessageQueue, offset: bigint) => updates.push(offset) } as unknown as OffsetStore;
  return { store, updates };
}

test('handlers run at most `concurrency` at once; commits never pass an unfinished message', async () => {
  const { store, updates } = recordingStore();
  let running = 0;
  let peak = 0;
  const gates = new Map<string, () => void>();
  const service = new ConsumeService({
    concurrency: 2,
    offsets: store,
    handler: () => async (m: ReceivedMessage) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => gates.set(m.msgId, resolve));
      running--;
    },
  });
  const pq = new ProcessQueue<ReceivedMessage>();
  const msgs = [msg(0), msg(1), msg(2), msg(3)];
  service.submit(mq, pq, pq.add(msgs));
  const until = async (cond: () => boolean) => {
    while (!cond()) await new Promise((r) => setImmediate(r));
  };
  await until(() => gates.size === 2);
  assert.equal(peak, 2);
  gates.get('id1')?.();
  await until(() => updates.length === 1 && gates.size === 3);
  assert.deepEqual(updates, [0n], 'offset 0 is still in flight');
  gates.get('id0')?.();
  await until(() => updates.length === 2 && gates.size === 4);
  assert.deepEqual(updates, [0n, 2n]);
  gates.get('id3')?.();
  gates.get('id2')?.();
  await service.drain(1000);
  assert.equal(updates.at(-1), 4n);
  assert.equal(peak, 2);
  assert.equal(pq.count, 0);
});

test('a throw or RECONSUME_LATER sends the message back before its offset is committed', async () => {
  const { store, updates } = recordingStore();
  const sentBack: string[] = [];
  const service = new ConsumeService({
    concurrency: 4,
    offsets: store,
    handler: () => (m: ReceivedMessage) => {
      if (m.msgId === 'id0') throw new Error('boom');
      if (m.msgId === 'id1') return ConsumeResult.RECONSUME_LATER;
      return undefined;
    },
    sendBack: async (m) => {
      sentBack.push(m.msgId);
      return true;
    },
  });
  const pq = new ProcessQueue<ReceivedMessage>();
  service.submit(mq, pq, pq.add([msg(0), msg(1), msg(2)]));
  await service.drain(1000);
  assert.deepEqual(sentBack.sort(), ['id0', 'id1']);
  assert.equal(updates.at(-1), 3n);
});
