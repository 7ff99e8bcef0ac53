/**
 * SQL92 with Apache's RocketMQ 4.9.8 Java client (Scenarios.java, SQL92 block): against `tsrocket start`
 * (enablePropertyFilter on by default) a `MessageSelector.bySql` consumer receives exactly the matching messages
 * and a bad expression fails its start with SUBSCRIPTION_PARSE_FAILED naming the position; against a broker
 * started with enablePropertyFilter=false the consumer fails to start with RocketMQ's refusal.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type JavaRun, runJavaScenarios, type ScenarioResult } from './java-client.js';
import { type RunningSystem, startSystem } from './system.js';

const systems: RunningSystem[] = [];
let on: JavaRun;
let off: JavaRun;

before(async () => {
  // One system and JVM after the other: two of each at once overload a busy 2-core machine.
  const withFilter = await startSystem();
  systems.push(withFilter);
  on = await runJavaScenarios(withFilter.nameSrv, withFilter.dataDir, {
    serializeType: 'JSON',
    suffix: '',
    scenarios: ['sql92-by-sql', 'sql92-bad-expression'],
    properties: { 'scenarios.sql92': 'true' },
  });
  const withoutFilter = await startSystem('enablePropertyFilter=false\n');
  systems.push(withoutFilter);
  off = await runJavaScenarios(withoutFilter.nameSrv, withoutFilter.dataDir, {
    serializeType: 'ROCKETMQ',
    suffix: 'Off',
    scenarios: ['sql92-refused'],
    properties: { 'scenarios.sql92Refused': 'true' },
  });
});
after(() => Promise.all(systems.map((s) => s.stop())));

function scenario(run: JavaRun, name: string): ScenarioResult {
  const r = run.results.get(name);
  assert.ok(r !== undefined, `scenario ${name} printed no result; JVM log:\n${run.stderr.slice(-4000)}`);
  assert.equal(r['error'], undefined, `scenario ${name} failed`);
  assert.equal(r['skipped'], undefined, `scenario ${name} skipped`);
  return r;
}

test('Java MessageSelector.bySql: the consumer receives exactly the messages whose properties match', () => {
  const r = scenario(on, 'sql92-by-sql');
  const sent = r['sent'] as ScenarioResult[];
  const matches = (m: ScenarioResult) => (m['a'] >= 10 && m['a'] <= 29 && m['region'] === 'eu') || m['tags'] === 'vip';
  const want = sent.filter(matches).map((m) => m['msgId'] as string);
  assert.ok(want.length > 5 && want.length < sent.length, `a selective filter (${want.length} of ${sent.length})`);
  const got = (r['received'] as ScenarioResult[]).map((m) => m['uniqKey'] as string);
  assert.equal(got.length, want.length, 'each matching message once, nothing else');
  assert.deepEqual(new Set(got), new Set(want));
});

test('Java MessageSelector.bySql with a bad expression: start fails with SUBSCRIPTION_PARSE_FAILED and the position', () => {
  const r = scenario(on, 'sql92-bad-expression');
  assert.equal(r['started'], false);
  assert.equal(r['responseCode'], 23, 'SUBSCRIPTION_PARSE_FAILED');
  assert.match(r['startError'], /expected a value, found the end of the expression at line 1, column 14/);
});

test('Java bySql against a broker with enablePropertyFilter=false: start fails with RocketMQ refusal', () => {
  const r = scenario(off, 'sql92-refused');
  assert.equal(r['started'], false, 'a SQL92 consumer must not start (it would be served unfiltered)');
  assert.equal(r['responseCode'], 1, 'SYSTEM_ERROR');
  assert.match(r['startError'], /The broker does not support consumer to filter message by SQL92/);
});
