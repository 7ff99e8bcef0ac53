import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Producer, RetriesExhaustedError } from '../../src/client/index.js';
import { RequestCode } from '../../src/remoting/codes.js';
import type { RemotingServer } from '../../src/remoting/server.js';
import { startCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster;

before(async () => {
  cluster = await startCluster(1);
});

after(async () => {
  await cluster.close();
});

test('a send the broker never answers fails after sendTimeoutMs', async () => {
  await cluster.createTopic('E2E_Timeout', 1);
  // Make the broker hold every send without answering.
  const server = (cluster.brokers[0] as unknown as { server: RemotingServer }).server;
  server.registerProcessor(RequestCode.SEND_MESSAGE_V2, () => undefined);
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'pg_timeout', sendTimeoutMs: 500 });
  await producer.start();
  try {
    const started = Date.now();
    await assert.rejects(producer.send({ topic: 'E2E_Timeout', body: 'never acked' }), (err: unknown) => {
      assert.ok(err instanceof RetriesExhaustedError, String(err));
      assert.match(err.message, /send to topic E2E_Timeout failed after 1 attempt/);
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 450 && elapsed < 5000, `failed after ${elapsed} ms`);
  } finally {
    await producer.shutdown();
  }
});
