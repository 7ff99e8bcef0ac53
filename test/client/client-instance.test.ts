import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientInstance } from '../../src/client/client-instance.js';
import { buildSubscription } from '../../src/client/subscription.js';

test('heartbeat body names the client, its producer groups and its consumer groups like RocketMQ', async () => {
  const a = ClientInstance.acquire({ nameServer: '127.0.0.1:1', clientIp: '10.1.2.3', instanceName: 'hb' });
  const b = ClientInstance.acquire({ nameServer: '127.0.0.1:1', clientIp: '10.1.2.3', instanceName: 'hb' });
  assert.equal(a, b, 'same client id → one shared instance');
  assert.equal(a.clientId, '10.1.2.3@hb');
  a.registerProducer('pg');
  a.registerProducer('pg');
  a.registerConsumer('cg', {
    consumerData: () => ({
      groupName: 'cg',
      consumeType: 'CONSUME_PASSIVELY',
      messageModel: 'CLUSTERING',
      consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
      subscriptionDataSet: [buildSubscription('T', 'a || b', 7)],
      unitMode: false,
    }),
    doRebalance: async () => undefined,
    topics: () => ['T'],
  });
  assert.throws(
    () =>
      a.registerConsumer('cg', {
        consumerData: () => ({}) as never,
        doRebalance: async () => undefined,
        topics: () => [],
      }),
    /already registered/,
  );
  const json = JSON.parse(JSON.stringify(a.heartbeatData()));
  assert.deepEqual(json, {
    clientID: '10.1.2.3@hb',
    producerDataSet: [{ groupName: 'pg' }],
    consumerDataSet: [
      {
        groupName: 'cg',
        consumeType: 'CONSUME_PASSIVELY',
        messageModel: 'CLUSTERING',
        consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
        subscriptionDataSet: [
          {
            topic: 'T',
            subString: 'a || b',
            tagsSet: ['a', 'b'],
            codeSet: [97, 98],
            subVersion: 7,
            expressionType: 'TAG',
            classFilterMode: false,
          },
        ],
        unitMode: false,
      },
    ],
  });
  // Unknown brokers: nothing to unregister from; the first release keeps the instance, the second closes it.
  await a.unregister('producer', 'pg');
  assert.equal(a.heartbeatData().producerDataSet.length, 1, 'the group had two producers');
  await a.release();
  await b.release();
  const c = ClientInstance.acquire({ nameServer: '127.0.0.1:1', clientIp: '10.1.2.3', instanceName: 'hb' });
  assert.notEqual(c, a, 'a released instance is not reused');
  await c.release();
});

test('distinct clients get distinct ids unless they share an instance name', async () => {
  const a = ClientInstance.acquire({ nameServer: '127.0.0.1:1' });
  const b = ClientInstance.acquire({ nameServer: '127.0.0.1:1' });
  assert.notEqual(a.clientId, b.clientId);
  assert.match(a.clientId, new RegExp(`@${process.pid}#\\d+$`));
  await a.release();
  await b.release();
});
