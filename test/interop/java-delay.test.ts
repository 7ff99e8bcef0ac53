/**
 * Delay levels and retry back-off with Apache's RocketMQ 4.9.8 Java client against `tsrocket start`:
 * `setDelayTimeLevel` arrives after its level's delay, and `RECONSUME_LATER` comes back on the back-off levels
 * (3 + reconsumeTimes) until the client's maxReconsumeTimes, then the message is in %DLQ%<group> with its origin.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Admin } from '../../src/client/admin/admin.js';
import { type JavaRun, runJavaScenarios, type ScenarioResult } from './java-client.js';
import { type RunningSystem, startSystem } from './system.js';

/** Level 1 is RocketMQ's real 1 s; the others are shortened (levels 3 and 4 are the first two retries). */
const levelsMs = [1000, 2000, 1000, 1500];
const wires = [
  { serializeType: 'JSON', suffix: 'D' },
  { serializeType: 'ROCKETMQ', suffix: 'DBin' },
] as const;

let system: RunningSystem | undefined;
const runs = new Map<string, JavaRun>();

before(async () => {
  system = await startSystem('messageDelayLevel=1s 2s 1s 1500ms\n');
  const { nameSrv, dataDir } = system;
  // One JVM after the other: the timing assertions need the machine's attention more than the run needs speed.
  for (const w of wires) {
    runs.set(w.suffix, await runJavaScenarios(nameSrv, dataDir, { ...w, scenarios: ['delay-level', 'retry-backoff'] }));
  }
});
after(() => system?.stop());

function scenario(suffix: string, name: string): ScenarioResult {
  const run = runs.get(suffix) as JavaRun;
  const r = run.results.get(name);
  assert.ok(r !== undefined, `scenario ${name} printed no result; JVM log:\n${run.stderr.slice(-4000)}`);
  assert.equal(r['error'], undefined, `scenario ${name} failed`);
  return r;
}

for (const { serializeType, suffix } of wires) {
  test(`Java (${serializeType}) setDelayTimeLevel 1 and 2: delivered once each, after the level's delay, within 1 s`, () => {
    const r = scenario(suffix, 'delay-level');
    const sent = r['sent'] as ScenarioResult[];
    const received = new Map((r['received'] as ScenarioResult[]).map((m) => [m['uniqKey'] as string, m]));
    assert.equal(received.size, (r['received'] as unknown[]).length, 'none received twice');
    assert.equal(sent.length, 4);
    for (const s of sent) {
      assert.equal(s['status'], 'SEND_OK');
      const m = received.get(s['msgId']);
      assert.ok(m !== undefined, `${s['body']} received`);
      const delayMs = levelsMs[(s['level'] as number) - 1] as number;
      assert.equal(m['topic'], `JavaDelay${suffix}`);
      assert.equal(m['body'], s['body']);
      assert.equal(m['delayProperty'], 'null', 'DELAY removed on delivery');
      assert.equal(m['realTopic'], `JavaDelay${suffix}`, 'REAL_TOPIC kept, as RocketMQ');
      assert.ok(m['storeTimestamp'] - m['bornTimestamp'] >= delayMs, 'stored again no earlier than the delay');
      assert.ok(m['receivedAtMs'] - s['sentAtMs'] >= delayMs, 'received no earlier than the delay');
      assert.ok(
        m['receivedAtMs'] - s['ackedAtMs'] <= delayMs + 1000,
        `received ${m['receivedAtMs'] - s['ackedAtMs']} ms after the ack`,
      );
    }
  });

  test(`Java (${serializeType}) RECONSUME_LATER: reconsumeTimes 0, 1, 2 on levels 3 and 4, then %DLQ% with its origin`, async () => {
    const r = scenario(suffix, 'retry-backoff');
    const sent = r['sent'] as ScenarioResult;
    const deliveries = r['deliveries'] as ScenarioResult[];
    assert.deepEqual(
      deliveries.map((d) => [d['uniqKey'], d['topic'], d['reconsumeTimes'], d['body']]),
      [0, 1, 2].map((n) => [sent['msgId'], `JavaBackoff${suffix}`, n, 'back off']),
    );
    for (let n = 1; n < deliveries.length; n++) {
      const gap = (deliveries[n]?.['receivedAtMs'] as number) - (deliveries[n - 1]?.['receivedAtMs'] as number);
      const delayMs = levelsMs[2 + n - 1] as number;
      assert.ok(gap >= delayMs && gap <= delayMs + 1500, `retry ${n}: ${gap} ms after the previous (level ${2 + n})`);
    }
    const admin = new Admin({ nameServer: system?.nameSrv ?? '', timeoutMs: 5000 });
    try {
      const [broker] = (await admin.topicRoute(`JavaBackoff${suffix}`)).brokerDatas;
      const addr = Object.values(broker?.brokerAddrs ?? {})[0] as string;
      const dlq = await admin.pull(addr, `%DLQ%JavaBackoffCG${suffix}`, 0, 0);
      assert.equal(dlq.messages.length, 1);
      const dead = dlq.messages[0];
      assert.equal(dead?.body.toString(), 'back off');
      assert.equal(dead?.properties.get('UNIQ_KEY'), sent['msgId']);
      assert.equal(dead?.properties.get('RETRY_TOPIC'), `JavaBackoff${suffix}`);
      assert.equal(dead?.reconsumeTimes, 3);
      assert.ok((dead?.properties.get('ORIGIN_MESSAGE_ID') ?? '') !== '', 'ORIGIN_MESSAGE_ID kept');
    } finally {
      await admin.close();
    }
  });
}
