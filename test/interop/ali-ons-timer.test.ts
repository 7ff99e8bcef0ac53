/**
 * Timer messages from the real `ali-ons` client: Message.setStartDeliverTime sends Aliyun's __STARTDELIVERTIME
 * (absolute ms); tsrocket holds each until that time (never earlier) and refuses one beyond timerMaxDelaySec.
 * ali-ons sets no UNIQ_KEY, so its msgId is the stored record's offsetMsgId, which the delivered copy does not
 * share (as in RocketMQ): messages are matched by body.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { Prop } from '../../src/common/properties.js';
import { waitUntil } from '../integration/procs.js';
import { cli, type RunningSystem, startSystem } from './system.js';

const run = promisify(execFile);
const driver = fileURLToPath(new URL('./ali-ons-timer-driver.js', import.meta.url));

let system: RunningSystem;
before(async () => {
  system = await startSystem('timerPrecisionMs=100\ntimerMaxDelaySec=600\n');
});
after(() => system?.stop());

interface Sent {
  msgId: string;
  body: string;
  dueMs: number;
}

async function onsTimer(args: string[]): Promise<{ sent: Sent[]; error?: string }> {
  const { stdout } = await run(process.execPath, [driver, ...args], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { sent: Sent[]; error?: string };
}

test('ali-ons setStartDeliverTime: delivered at or after the time asked', async () => {
  const topic = 'InteropOnsTimer';
  const { stdout } = await run(process.execPath, [
    cli,
    'admin',
    'updateTopic',
    '-n',
    system.nameSrv,
    '-c',
    'DefaultCluster',
    '-t',
    topic,
    '-r',
    '4',
    '-w',
    '4',
  ]);
  assert.match(stdout, /success/);
  const got = new Map<string, { atMs: number; props: Map<string, string> }>();
  const consumer = new PushConsumer({
    nameServer: system.nameSrv,
    group: 'GID_interop_ons_timer',
    clientIp: '127.0.0.1',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  consumer.subscribe(topic, '*').onMessage((m) => {
    got.set(m.body.toString(), { atMs: Date.now(), props: m.properties });
  });
  await consumer.start();
  try {
    const { sent, error } = await onsTimer(['produce', system.nameSrv, topic, '20', '3000']);
    assert.equal(error, undefined);
    assert.equal(sent.length, 20);
    await waitUntil(() => sent.every((s) => got.has(s.body)), 'every ali-ons timer message consumed', 30_000);
    for (const s of sent) {
      const g = got.get(s.body) as { atMs: number; props: Map<string, string> };
      assert.ok(g.atMs >= s.dueMs, `'${s.body}' consumed ${s.dueMs - g.atMs} ms before its time`);
      assert.equal(g.props.has(Prop.startDeliverTime), false);
      assert.ok(Number(g.props.get(Prop.timerDequeueMs)) >= s.dueMs);
    }
    const beyond = await onsTimer(['produce-at', system.nameSrv, topic, String(Date.now() + 3_600_000)]);
    assert.match(beyond.error ?? '', /timer message illegal/);
  } finally {
    await consumer.shutdown();
  }
});
