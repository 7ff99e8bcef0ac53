/**
 * Transactions over real processes (`tsrocket namesrv`, `tsrocket broker`, producer and consumer workers):
 * a producer SIGKILLed between prepare and commit has its transactions resolved through another producer of its
 * group; a broker SIGKILLed with open half messages resolves them after its restart; a transaction never decided
 * is rolled back (and logged) after transactionCheckMax check-backs. A rolled-back message is never delivered.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  assignment,
  consumedIds,
  createTopic,
  Proc,
  spawnConsumer,
  startBroker,
  startNamesrv,
  stopAll,
  tempDir,
  writeBrokerConf,
} from './procs.js';
import type { TxWorkerConfig } from './tx-producer-worker.js';

const workerPath = fileURLToPath(new URL('./tx-producer-worker.js', import.meta.url));
const topic = 'ItTransactions';

let dir: string;
let cleanup: () => Promise<void>;
let namesrv: { proc: Proc; addr: string };
let broker: { proc: Proc; addr: string };
let conf: string;
let consumer: Proc;

before(async () => {
  ({ dir, cleanup } = await tempDir('transactions'));
  namesrv = await startNamesrv(dir);
  conf = await writeBrokerConf(dir, {
    brokerClusterName: 'ItCluster',
    brokerName: 'broker-tx',
    flushDiskType: 'SYNC_FLUSH',
    mappedFileSizeCommitLog: 16 * 1024 * 1024,
    listenHost: '127.0.0.1',
    transactionTimeOut: 1500,
    transactionCheckInterval: 400,
    transactionCheckMax: 3,
    flushConsumerOffsetInterval: 200,
  });
  broker = await startBroker(conf, namesrv.addr, join(dir, 'broker'), 0);
  await createTopic(namesrv.addr, broker.addr, topic, 2);
  consumer = spawnConsumer('consumer', {
    nameServer: namesrv.addr,
    topic,
    group: 'GID_it_tx',
    messageModel: 'CLUSTERING',
  });
  await consumer.until(() => assignment(consumer).length === 2, 'consumer owns both queues');
});

after(async () => {
  await stopAll();
  await cleanup();
});

function spawnTx(name: string, config: Omit<TxWorkerConfig, 'nameServer' | 'topic'>): Proc {
  return new Proc(name, [workerPath, JSON.stringify({ nameServer: namesrv.addr, topic, ...config })], 'error');
}

/** UNIQ_KEYs the consumer reported, with repeats. */
const consumed = () => consumedIds(consumer);
const uniqOf = (p: Proc, kind: string, outcome: string) => p.eventsOf(kind).filter((e) => e['outcome'] === outcome);

test('producer SIGKILLed between prepare and commit: the check reaches another producer of the group', async () => {
  const survivor = spawnTx('survivor', { group: 'PID_it_tx_kill', outcomes: ['commit'], execute: 'decide' });
  await survivor.until(() => survivor.eventsOf('done').length === 1, 'survivor announced itself with one send');
  const outcomes: TxWorkerConfig['outcomes'] = ['commit', 'rollback', 'commit', 'rollback', 'commit', 'rollback'];
  const victim = spawnTx('victim', { group: 'PID_it_tx_kill', outcomes, execute: 'hang' });
  await victim.until(() => victim.eventsOf('prepared').length === outcomes.length, 'every half message prepared');
  victim.kill('SIGKILL');
  await victim.exited;
  const victimIds = victim.eventsOf('prepared').map((e) => e['id'] as string);
  const checkedIds = () => new Set(survivor.eventsOf('check').map((e) => e['id'] as string));
  await survivor.until(
    () => victimIds.every((id) => checkedIds().has(id)),
    "the survivor was asked about every one of the victim's transactions",
    20_000,
  );
  const uniqById = new Map(survivor.eventsOf('check').map((e) => [e['id'] as string, e['uniq'] as string]));
  const commits = victimIds.filter((id) => id.endsWith('commit')).map((id) => uniqById.get(id) as string);
  const rollbacks = victimIds.filter((id) => id.endsWith('rollback')).map((id) => uniqById.get(id) as string);
  await consumer.until(() => commits.every((u) => consumed().includes(u)), 'every commit delivered', 20_000);
  // A few more check passes: nothing rolled back ever shows up.
  await sleep(1500);
  assert.deepEqual(
    rollbacks.filter((u) => consumed().includes(u)),
    [],
  );
  const survivorCommit = uniqOf(survivor, 'sent', 'commit')[0]?.['uniq'] as string;
  assert.ok(consumed().includes(survivorCommit));
});

test('never decided: rolled back and logged after transactionCheckMax check-backs, never delivered', async () => {
  const p = spawnTx('undecided', { group: 'PID_it_tx_never', outcomes: ['never'], execute: 'decide' });
  await p.until(() => p.eventsOf('done').length === 1, 'sent');
  const uniq = p.eventsOf('sent')[0]?.['uniq'] as string;
  await broker.proc.line(/rolled back after transactionCheckMax check-backs/, 20_000);
  // The third check-back reaches the producer process after the broker logged it (late on a busy machine); then a
  // few more check passes, and no fourth.
  await p.until(() => p.eventsOf('check').length >= 3, 'three check-backs', 20_000);
  await sleep(1500);
  assert.equal(p.eventsOf('check').length, 3, 'transactionCheckMax = 3 check-backs');
  assert.ok(!consumed().includes(uniq));
  await p.stop();
});

test('broker SIGKILLed with open half messages: resolved after its restart, rollbacks never delivered', async () => {
  const outcomes: TxWorkerConfig['outcomes'] = ['commit', 'rollback', 'commit', 'rollback'];
  const p = spawnTx('unknown', { group: 'PID_it_tx_crash', outcomes, execute: 'unknown' });
  await p.until(() => p.eventsOf('sent').length === outcomes.length, 'every half message acked UNKNOWN');
  assert.equal(p.eventsOf('check').length, 0, 'killed before any check-back');
  const port = Number(broker.addr.split(':')[1]);
  broker.proc.kill('SIGKILL');
  await broker.proc.exited;
  broker = await startBroker(conf, namesrv.addr, join(dir, 'broker'), port);
  const commits = uniqOf(p, 'sent', 'commit').map((e) => e['uniq'] as string);
  const rollbacks = uniqOf(p, 'sent', 'rollback').map((e) => e['uniq'] as string);
  await consumer.until(() => commits.every((u) => consumed().includes(u)), 'commits delivered after restart', 30_000);
  const checked = new Set(p.eventsOf('check').map((e) => e['uniq'] as string));
  await p.until(
    () => rollbacks.every((u) => new Set(p.eventsOf('check').map((e) => e['uniq'])).has(u)),
    'rollbacks checked',
  );
  assert.ok(commits.every((u) => checked.has(u)));
  await sleep(1500);
  assert.deepEqual(
    rollbacks.filter((u) => consumed().includes(u)),
    [],
  );
  await p.stop();
});
