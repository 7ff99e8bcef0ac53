/**
 * Apache's Node.js 5.x PushConsumer (QueryAssignment, ReceiveMessage with auto-renew, AckMessage) consumes 10,000
 * messages with none lost. It runs in its own process, as a consumer application would, until it has them all or
 * none came for 30 s (about 50 s on a quiet 2-core machine; longer, not failing, when the machine is busy).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Producer } from '../../../src/client/producer.js';
import { type GrpcHarness, startGrpcHarness } from '../harness.js';
import { createTopic } from './helpers.js';

const run = promisify(execFile);
const driver = fileURLToPath(new URL('./push-consumer-driver.js', import.meta.url));

let h: GrpcHarness;
before(async () => {
  h = await startGrpcHarness();
});
after(() => h.stop());

test('PushConsumer consumes 10,000 messages with none lost', async () => {
  const topic = 'GrpcPushTopic';
  const count = 10_000;
  await createTopic(h, topic, 4);
  const producer = new Producer({ nameServer: h.namesrvAddr, group: 'GrpcPushPG', clientIp: '127.0.0.1' });
  await producer.start();
  const sent = new Set<string>();
  try {
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      inFlight.push(producer.send({ topic, body: `push ${i}` }).then((r) => void sent.add(r.msgId)));
      if (inFlight.length >= 256) await Promise.all(inFlight.splice(0));
    }
    await Promise.all(inFlight);
  } finally {
    await producer.shutdown();
  }
  assert.equal(sent.size, count);
  const { stdout } = await run(
    process.execPath,
    [driver, h.endpoints, topic, 'GrpcPushGroup', String(count), '30000'],
    { timeout: 280_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const { ids, deliveries } = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    ids: string[];
    deliveries: number;
  };
  const got = new Set(ids);
  const missing = [...sent].filter((id) => !got.has(id));
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${count} never consumed`);
  assert.equal(got.size, count);
  assert.ok(deliveries >= count);
});
