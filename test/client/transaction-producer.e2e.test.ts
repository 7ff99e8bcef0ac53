/**
 * TransactionProducer against an in-process broker with short check timings: commit is delivered, rollback
 * never, UNKNOWN (returned or thrown) is resolved by the broker's check-back both ways, and a transaction
 * checked transactionCheckMax times is rolled back.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  LocalTransactionError,
  type Message,
  PushConsumer,
  type ReceivedMessage,
  type SendResult,
  TransactionProducer,
  TransactionState,
  TransactionStateError,
} from '../../src/client/index.js';
import { startCluster, type TestCluster, waitFor } from './cluster.js';

let cluster: TestCluster;
let consumer: PushConsumer;
const delivered: ReceivedMessage[] = [];
const topic = 'TX_E2E';

before(async () => {
  cluster = await startCluster(1, { transactionTimeOut: 300, transactionCheckInterval: 200, transactionCheckMax: 3 });
  await cluster.createTopic(topic, 2);
  consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'cg_tx_e2e',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  });
  consumer.subscribe(topic, '*').onMessage(async (m) => {
    delivered.push(m);
  });
  await consumer.start();
});

after(async () => {
  await consumer.shutdown();
  await cluster.close();
});

const bodies = () => delivered.map((m) => m.body.toString());

test('commit is delivered without the transaction properties; rollback is never delivered', async () => {
  const p = new TransactionProducer({
    nameServer: cluster.nameServer,
    group: 'pg_tx_direct',
    executeLocal: (msg) =>
      String(msg.body).startsWith('commit') ? TransactionState.COMMIT : TransactionState.ROLLBACK,
    checkLocal: () => assert.fail('no check expected for decided transactions'),
  });
  await p.start();
  try {
    const c = await p.send({ topic, body: 'commit-1', tags: 'T', keys: 'k1' });
    assert.equal(c.state, TransactionState.COMMIT);
    assert.equal(c.localError, undefined);
    const c2 = await p.send({ topic, body: 'commit-2' });
    const r = await p.send({ topic, body: 'rollback-1' });
    assert.equal(r.state, TransactionState.ROLLBACK);
    await waitFor(() => bodies().includes('commit-2'), 'the second committed message');
    const queues = [c, c2].map((x) => x.sendResult.messageQueue.queueId);
    assert.deepEqual(
      queues,
      ['commit-1', 'commit-2'].map((b) => delivered.find((x) => x.body.toString() === b)?.queueId),
      'the send result names the real queue',
    );
    assert.deepEqual([...queues].sort(), [0, 1], 'round robin reached both queues');
    await waitFor(() => bodies().includes('commit-1'), 'the committed message');
    const m = delivered.find((x) => x.body.toString() === 'commit-1') as ReceivedMessage;
    assert.equal(m.topic, topic);
    assert.equal(m.tags, 'T');
    assert.equal(m.msgId, c.sendResult.msgId);
    assert.equal(m.properties.get('REAL_TOPIC'), undefined);
    assert.equal(m.properties.get('TRAN_MSG'), undefined);
    assert.equal(m.properties.get('PGROUP'), 'pg_tx_direct');
  } finally {
    await p.shutdown();
  }
});

test('UNKNOWN (returned, thrown, or not a state) is resolved by check-back: commit and rollback', async () => {
  const decided = new Map<string, TransactionState>();
  let checks = 0;
  const p = new TransactionProducer({
    nameServer: cluster.nameServer,
    group: 'pg_tx_check',
    executeLocal: (msg) => {
      const b = String(msg.body);
      if (b.includes('throws')) throw new Error('local database unreachable');
      if (b.includes('garbage')) return 'MAYBE' as TransactionState;
      return TransactionState.UNKNOWN;
    },
    checkLocal: (msg) => {
      checks++;
      return decided.get(msg.body.toString()) ?? TransactionState.UNKNOWN;
    },
  });
  await p.start();
  try {
    const unknown = await p.send({ topic, body: 'check-commit' });
    assert.equal(unknown.state, TransactionState.UNKNOWN);
    const thrown = await p.send({ topic, body: 'check-rollback-throws' });
    assert.equal(thrown.state, TransactionState.UNKNOWN);
    assert.ok(thrown.localError instanceof LocalTransactionError);
    const garbage = await p.send({ topic, body: 'check-commit-garbage' });
    assert.ok(garbage.localError instanceof TransactionStateError);
    await waitFor(() => checks >= 3, 'the first check-backs');
    assert.equal(bodies().filter((b) => b.startsWith('check-')).length, 0, 'nothing delivered while unknown');
    decided.set('check-commit', TransactionState.COMMIT);
    decided.set('check-commit-garbage', TransactionState.COMMIT);
    decided.set('check-rollback-throws', TransactionState.ROLLBACK);
    await waitFor(() => bodies().filter((b) => b.startsWith('check-commit')).length === 2, 'both commits');
    const settledAt = checks;
    await sleep(1000);
    assert.ok(checks - settledAt <= 3, `checks stop once resolved (${checks - settledAt} more)`);
    assert.deepEqual(
      bodies()
        .filter((b) => b.startsWith('check-'))
        .sort(),
      ['check-commit', 'check-commit-garbage'],
    );
  } finally {
    await p.shutdown();
  }
});

test('a transaction still unknown after transactionCheckMax check-backs is rolled back and checked no more', async () => {
  let checks = 0;
  const p = new TransactionProducer({
    nameServer: cluster.nameServer,
    group: 'pg_tx_max',
    executeLocal: () => TransactionState.UNKNOWN,
    checkLocal: () => {
      checks++;
      return TransactionState.UNKNOWN;
    },
  });
  await p.start();
  try {
    await p.send({ topic, body: 'never-decided' });
    await waitFor(() => checks >= 3, 'three check-backs', 30_000);
    await sleep(1500);
    assert.equal(checks, 3, 'transactionCheckMax = 3 check-backs, then no more');
    assert.ok(!bodies().includes('never-decided'));
  } finally {
    await p.shutdown();
  }
});

test('END_TRANSACTIONs still queued when the producer shuts down are written first: the commit is delivered', async () => {
  const p = new TransactionProducer({
    nameServer: cluster.nameServer,
    group: 'pg_tx_shutdown',
    executeLocal: () => TransactionState.COMMIT,
    // Nobody is left to answer a check after the shutdown: only the END_TRANSACTION can deliver these.
    checkLocal: () => TransactionState.UNKNOWN,
  });
  await p.start();
  const sent = await Promise.all([1, 2, 3].map((i) => p.send({ topic, body: `shutdown-commit-${i}` })));
  assert.ok(sent.every((r) => r.state === TransactionState.COMMIT));
  await p.shutdown();
  await waitFor(() => bodies().filter((b) => b.startsWith('shutdown-commit-')).length === 3, 'the three commits');
});

test('an END_TRANSACTION whose offsetMsgId names no CommitLog offset is left to the check-back; the others of its turn go', async () => {
  const checked: string[] = [];
  const p = new TransactionProducer({
    nameServer: cluster.nameServer,
    group: 'pg_tx_bad_offset_id',
    executeLocal: () => TransactionState.COMMIT,
    checkLocal: (m) => {
      checked.push(m.body.toString());
      return TransactionState.COMMIT;
    },
  });
  await p.start();
  // As a broker answering with an offsetMsgId of another form: the SDK cannot name the half's CommitLog offset.
  const inner = (p as unknown as { producer: { send: (m: Message) => Promise<SendResult> } }).producer;
  const send = inner.send.bind(inner);
  inner.send = async (msg: Message) => {
    const r = await send(msg);
    if (String(msg.body) !== 'bad-offset-id') return r;
    return Object.assign(Object.create(Object.getPrototypeOf(r)) as SendResult, r, { offsetMsgId: 'not-an-id' });
  };
  try {
    const sent = await Promise.all(['bad-offset-id', 'good-offset-id'].map((body) => p.send({ topic, body })));
    assert.ok(sent.every((r) => r.state === TransactionState.COMMIT));
    await waitFor(() => bodies().includes('good-offset-id'), 'the END_TRANSACTION of the good one');
    await waitFor(() => bodies().includes('bad-offset-id'), 'the check-back of the bad one', 30_000);
    assert.deepEqual(checked, ['bad-offset-id'], 'only the transaction without an END_TRANSACTION was checked');
  } finally {
    await p.shutdown();
  }
});
