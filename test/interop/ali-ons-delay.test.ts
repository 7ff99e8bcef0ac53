/** ali-ons `delayTimeLevel` against `tsrocket start`: a level-1 message arrives after 1 s, within 1 s after that. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Admin } from '../../src/client/admin/admin.js';
import { type RunningSystem, startSystem } from './system.js';

const run = promisify(execFile);
const driver = fileURLToPath(new URL('./ali-ons-delay-driver.js', import.meta.url));

let system: RunningSystem;
before(async () => {
  system = await startSystem();
});
after(() => system?.stop());

test('ali-ons delayTimeLevel 1: each message received once, no earlier than 1 s after its send', async () => {
  const topic = 'InteropOnsDelay';
  const admin = new Admin({ nameServer: system.nameSrv });
  try {
    await admin.createOrUpdateTopic(
      { cluster: 'DefaultCluster' },
      { topicName: topic, readQueueNums: 2, writeQueueNums: 2 },
    );
  } finally {
    await admin.close();
  }
  const { stdout } = await run(process.execPath, [driver, system.nameSrv, topic, 'GID_ons_delay', '1', '4', '30000'], {
    timeout: 60_000,
  });
  const out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    sent: Array<{ msgId: string; body: string; sentAtMs: number; ackedAtMs: number }>;
    received: Array<{ msgId: string; body: string; receivedAtMs: number; delay?: string }>;
  };
  assert.equal(out.sent.length, 4);
  assert.equal(out.received.length, 4, 'each delayed message once');
  // ali-ons names a message by its offsetMsgId, which is the redelivered record's: match by body.
  const byBody = new Map(out.received.map((r) => [r.body, r]));
  for (const s of out.sent) {
    const r = byBody.get(s.body);
    assert.ok(r !== undefined, `${s.body} received`);
    assert.notEqual(r.msgId, s.msgId, 'delivered as a new record');
    assert.equal(r.delay, undefined, 'DELAY removed on delivery');
    assert.ok(r.receivedAtMs - s.sentAtMs >= 1000, `received ${r.receivedAtMs - s.sentAtMs} ms after the send`);
    assert.ok(r.receivedAtMs - s.ackedAtMs <= 2000, `received ${r.receivedAtMs - s.ackedAtMs} ms after the ack`);
  }
});
