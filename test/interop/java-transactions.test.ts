/**
 * Transactions with Apache's RocketMQ 4.9.8 Java client against `tsrocket start`: TransactionMQProducer with a
 * TransactionListener — COMMIT_MESSAGE delivered, ROLLBACK_MESSAGE never, UNKNOW resolved by
 * checkLocalTransaction (commit and rollback) — in both header encodings. Short check timings via broker.conf.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type JavaRun, type JavaRunOptions, runJavaScenarios, type ScenarioResult } from './java-client.js';
import { type RunningSystem, startSystem } from './system.js';

const wires: Array<Omit<JavaRunOptions, 'scenarios'>> = [
  { serializeType: 'JSON', suffix: 'Tx' },
  { serializeType: 'ROCKETMQ', suffix: 'TxBin' },
];

let system: RunningSystem | undefined;
const runs = new Map<string, JavaRun>();

before(async () => {
  system = await startSystem('transactionTimeOut=1000\ntransactionCheckInterval=300\n');
  const { nameSrv, dataDir } = system;
  const done = await Promise.all(
    wires.map((w) =>
      runJavaScenarios(nameSrv, dataDir, {
        ...w,
        scenarios: ['transactions'],
        properties: { 'scenarios.transactions': 'true' },
      }),
    ),
  );
  for (const [i, w] of wires.entries()) runs.set(w.suffix, done[i] as JavaRun);
});

after(() => system?.stop());

function result(suffix: string): ScenarioResult {
  const run = runs.get(suffix) as JavaRun;
  const r = run.results.get('transactions');
  assert.ok(r !== undefined, `no result; JVM log:\n${run.stderr.slice(-4000)}`);
  assert.equal(r['error'], undefined, `scenario failed; JVM log:\n${run.stderr.slice(-4000)}`);
  return r;
}

for (const w of wires) {
  test(`Java TransactionMQProducer (${w.serializeType}): commit, rollback, UNKNOW resolved by checkLocalTransaction`, () => {
    const r = result(w.suffix);
    const sent = r['sent'] as ScenarioResult[];
    const byOutcome = new Map(sent.map((s) => [s['outcome'] as string, s]));
    assert.equal(sent.length, 4);
    for (const s of sent) {
      assert.equal(s['status'], 'SEND_OK', JSON.stringify(s));
    }
    assert.equal(byOutcome.get('commit')?.['localTransactionState'], 'COMMIT_MESSAGE');
    assert.equal(byOutcome.get('rollback')?.['localTransactionState'], 'ROLLBACK_MESSAGE');
    assert.equal(byOutcome.get('unknown-commit')?.['localTransactionState'], 'UNKNOW');

    // Checks: only the UNKNOW ones, as the real topic, with the transaction id the producer saw.
    const checks = r['checks'] as ScenarioResult[];
    const checked = new Set(checks.map((c) => c['outcome'] as string));
    assert.deepEqual([...checked].sort(), ['unknown-commit', 'unknown-rollback']);
    for (const c of checks) {
      const s = byOutcome.get(c['outcome'] as string) as ScenarioResult;
      assert.equal(c['topic'], `JavaTx${w.suffix}`);
      assert.equal(c['transactionId'], s['msgId']);
      assert.equal(c['uniqKey'], s['msgId']);
      assert.equal(c['body'], `tx ${c['outcome']}`);
    }

    // Delivered: the commit and the checked commit, once each, with their ids; never a rollback.
    const received = r['received'] as ScenarioResult[];
    const got = received.map((m) => m['body'] as string).sort();
    assert.deepEqual(got, ['tx commit', 'tx unknown-commit']);
    for (const m of received) {
      const s = byOutcome.get((m['body'] as string).slice(3)) as ScenarioResult;
      assert.equal(m['uniqKey'], s['msgId']);
      assert.equal(m['topic'], `JavaTx${w.suffix}`);
      assert.equal(m['tags'], 'TagTx');
      assert.equal((m['sysFlag'] as number) & 0xc, 0x8, 'stored as a committed transactional message');
    }
  });
}
