/**
 * Rewind with the real `ali-ons` consumer, which ignores RESET_CONSUMER_CLIENT_OFFSET (220): after
 * Admin.resetOffsetByTime the broker answers its next pull PULL_OFFSET_MOVED to the reset offset and ignores its
 * stale commits, so it re-consumes exactly the messages stored at or after the time.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer } from '../../src/client/producer.js';
import { type RunningSystem, startSystem } from './system.js';

const run = promisify(execFile);
const driver = fileURLToPath(new URL('./ali-ons-driver.js', import.meta.url));
const topic = 'OnsRewind';
const group = 'GID_ons_rewind';

let system: RunningSystem;
before(async () => {
  system = await startSystem();
});
after(() => system?.stop());

test('ali-ons consumer re-consumes from the first message at or after the reset time', async () => {
  const nameSrv = system.nameSrv;
  const admin = new Admin({ nameServer: nameSrv, timeoutMs: 5000 });
  const producer = new Producer({ nameServer: nameSrv, group: 'PID_ons_rewind', clientIp: '127.0.0.1' });
  try {
    await admin.createOrUpdateTopic(
      { cluster: 'DefaultCluster' },
      { topicName: topic, readQueueNums: 2, writeQueueNums: 2 },
    );
    await producer.start();
    for (let i = 0; i < 10; i++) await producer.send({ topic, body: String(i) });
    await sleep(10);
    const t = Date.now();
    await sleep(10);
    for (let i = 10; i < 20; i++) await producer.send({ topic, body: String(i) });

    // 20 first, then the 10 after the time again; 1 s long polls and offsets committed every 200 ms (lingerMs).
    const consuming = run(process.execPath, [driver, 'consume', nameSrv, topic, group, '*', '30', '40000', '500'], {
      timeout: 60_000,
    });
    const deadline = Date.now() + 30_000;
    let committed = 0;
    while (committed < 20 && Date.now() < deadline) {
      committed = await admin
        .consumerProgress(group, topic)
        .then((p) => p.consumerOffsetTotal)
        .catch(() => 0);
      if (committed < 20) await sleep(100);
    }
    assert.equal(committed, 20, 'ali-ons consumed and committed all 20');
    const offsets = await admin.resetOffsetByTime(group, topic, t);
    assert.equal(
      offsets.reduce((n, o) => n + Number(o.offset), 0),
      10,
    );

    const { stdout } = await consuming;
    const received = (JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { received: Array<{ body: string }> })
      .received;
    const bodies = received.map((m) => Number(m.body));
    assert.equal(bodies.length, 30, `received ${bodies.join(',')}`);
    const num = (a: number, b: number) => a - b;
    assert.deepEqual(
      bodies.slice(0, 20).sort(num),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.deepEqual(
      bodies.slice(20).sort(num),
      Array.from({ length: 10 }, (_, i) => 10 + i),
    );
  } finally {
    await producer.shutdown();
    await admin.close();
  }
});
