/**
 * The Rebalancer's view of what it consumes: a queue whose start is still under way (an orderly consumer waiting
 * for the broker's lock) is not reported as assigned until its start succeeded, and never when it failed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocateAveragely } from '../../src/client/allocate.js';
import type { ClientInstance } from '../../src/client/client-instance.js';
import { MessageModel } from '../../src/client/heartbeat.js';
import type { MessageQueue } from '../../src/client/message-queue.js';
import { Rebalancer } from '../../src/client/rebalancer.js';
import { createLogger } from '../../src/common/log.js';

/** The parts of a ClientInstance a rebalance reads: one broker, two queues, this client alone in its group. */
function instanceStub(): ClientInstance {
  const route = {
    queueDatas: [{ brokerName: 'b', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 }],
    brokerDatas: [{ cluster: 'c', brokerName: 'b', brokerAddrs: { 0: '127.0.0.1:1' } }],
  };
  return {
    clientId: 'me',
    logFor: (name: string) => createLogger(name),
    cachedRoute: () => route,
    masterAddr: () => '127.0.0.1:1',
    ensureHeartbeat: async () => undefined,
    api: { getConsumerIds: async () => ['me'] },
  } as unknown as ClientInstance;
}

test('a queue still starting is not assigned; it is once started, and a refused one never is', async () => {
  const answers = new Map<number, (ok: boolean) => void>();
  const rebalancer = new Rebalancer(instanceStub(), 'g', MessageModel.CLUSTERING, allocateAveragely, {
    added: (mq: MessageQueue) => new Promise<boolean>((resolve) => answers.set(mq.queueId, resolve)),
    removed: async () => undefined,
  });
  const done = rebalancer.rebalance(['T']);
  while (!answers.has(0)) await new Promise((r) => setImmediate(r));
  assert.deepEqual(rebalancer.assigned(), [], 'queue 0 is waiting for its start');
  answers.get(0)?.(true);
  while (!answers.has(1)) await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    rebalancer.assigned().map((q) => q.queueId),
    [0],
    'queue 0 started; queue 1 is waiting',
  );
  answers.get(1)?.(false);
  await done;
  assert.deepEqual(
    rebalancer.assigned().map((q) => q.queueId),
    [0],
    'queue 1 was refused',
  );
});
