import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type GrpcHarness, startGrpcHarness } from './harness.js';
import { RawClient } from './raw-client.js';

let h: GrpcHarness;
let raw: RawClient;

before(async () => {
  h = await startGrpcHarness();
  raw = new RawClient(h.endpoints);
});

after(async () => {
  raw.close();
  await h.stop();
});

interface RouteResponse {
  status: { code: string; message: string };
  messageQueues: {
    topic: { name: string };
    id: number;
    permission: string;
    broker: { name: string; id: number; endpoints: { addresses: { host: string; port: number }[] } };
    acceptMessageTypes: string[];
  }[];
}

test('QueryRoute answers every queue of the topic with this endpoint as the broker address', async () => {
  const res = await raw.call<RouteResponse>('QueryRoute', { topic: { name: 'GrpcRouteTopic' } });
  assert.equal(res.status.code, 'OK', res.status.message);
  assert.equal(res.messageQueues.length, 8, 'auto-created with defaultTopicQueueNums queues');
  assert.deepEqual(
    res.messageQueues.map((q) => q.id),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  const q0 = res.messageQueues[0];
  assert.ok(q0 !== undefined);
  assert.equal(q0.topic.name, 'GrpcRouteTopic');
  assert.equal(q0.permission, 'READ_WRITE');
  assert.equal(q0.broker.name, 'broker-a');
  assert.equal(q0.broker.id, 0);
  const [host, port] = h.endpoints.split(':');
  assert.deepEqual(q0.broker.endpoints.addresses, [{ host, port: Number(port) }]);
  assert.deepEqual(q0.acceptMessageTypes, ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION']);
});

test('QueryRoute with no topic or a bad topic name: ILLEGAL_TOPIC, and the server stays up', async () => {
  const none = await raw.call<RouteResponse>('QueryRoute', {});
  assert.equal(none.status.code, 'ILLEGAL_TOPIC');
  assert.match(none.status.message, /topic is required/);
  const bad = await raw.call<RouteResponse>('QueryRoute', { topic: { name: 'no spaces' } });
  assert.equal(bad.status.code, 'ILLEGAL_TOPIC');
  assert.match(bad.status.message, /outside \[%\|a-zA-Z0-9_-\]/);
  const ok = await raw.call<RouteResponse>('QueryRoute', { topic: { name: 'GrpcRouteTopic' } });
  assert.equal(ok.status.code, 'OK');
});

test('an RPC not built yet answers NOT_IMPLEMENTED at once', async () => {
  const res = await raw.call<{ status: { code: string; message: string } }>('SyncLiteSubscription', {});
  assert.equal(res.status.code, 'NOT_IMPLEMENTED');
  assert.match(res.status.message, /SyncLiteSubscription is not built yet/);
  const streamed = await raw.stream<{ status: { code: string } }>('PullMessage', {});
  assert.deepEqual(
    streamed.map((r) => r.status.code),
    ['NOT_IMPLEMENTED'],
  );
});
