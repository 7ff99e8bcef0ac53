/**
 * Every acknowledged send of each kind survives SIGKILL of the broker under a mixed load, as a user would make
 * it: `tsrocket start` (SYNC_FLUSH) receives at once normal sends, delay-level sends, timer sends (1–5 s ahead),
 * transactional sends (a TransactionProducer committing two in three, rolling back the third) and the send-backs
 * of a consumer that fails each message's first delivery. The process is SIGKILLed mid-write, several rounds,
 * and restarted on the same ports and data dir while the clients stay up. Then: every acknowledged message of
 * each kind is consumed (a sent-back one as its retry), no delayed or timer message before its time, no
 * rolled-back message ever; duplicates are counted and reported, not failed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import type { ReceivedMessage } from '../../src/client/received-message.js';
import { TransactionProducer, TransactionState } from '../../src/client/transaction-producer.js';
import { setLogLevel } from '../../src/common/log.js';
import { Prop } from '../../src/common/properties.js';
import {
  createTopic,
  Proc,
  type Server,
  startArgs,
  startServer,
  stopAll,
  tempDir,
  waitUntil,
  writeBrokerConf,
} from './procs.js';

setLogLevel('error');
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

const Kind = { normal: 'normal', delay: 'delay', timer: 'timer', tx: 'tx', retry: 'retry' } as const;
type Kind = (typeof Kind)[keyof typeof Kind];
const topicOf: Readonly<Record<Kind, string>> = {
  normal: 'MixNormal',
  delay: 'MixDelay',
  timer: 'MixTimer',
  tx: 'MixTx',
  retry: 'MixRetry',
};
/** Levels 1–2 for the delay sends; level 3 is a first retry's (DELAY = 3 + reconsumeTimes). */
const levelsMs = [700, 1500, 1000, 1000, 1000];
const sendersPerKind = 3;
const timerAheadMinMs = 1000;
const timerAheadMaxMs = 5000;

/** What was acknowledged: msgId → kind and the earliest time it may be delivered (0: any time). */
interface Acked {
  kind: Kind;
  notBeforeMs: number;
}

interface Seen {
  kind: Kind;
  copies: number;
  receivedMs: number;
  storeTs: number;
  bornTs: number;
  timerFiredMs: number;
}

async function restart(server: Server, data: string, conf: string): Promise<Server> {
  const ns = Number(server.nameServer.split(':')[1]);
  const broker = Number(server.brokerAddr.split(':')[1]);
  const proc = new Proc('tsrocket start (restarted)', [...startArgs(data, ns, broker), '-c', conf]);
  await proc.line(/tsrocket started/, 30_000);
  return { proc, nameServer: server.nameServer, brokerAddr: server.brokerAddr };
}

type FlushMode = 'SYNC_FLUSH' | 'ASYNC_FLUSH';

/**
 * The mixed load against `tsrocket start` in `mode`, SIGKILLed `rounds` times; returns how many acknowledged
 * messages were never consumed (the caller decides what its mode promises) after asserting what every mode does:
 * nothing early, no rolled-back transaction delivered.
 */
async function mixedRounds(t: TestContext, mode: FlushMode, rounds: number, waitMs: number): Promise<number> {
  const { dir, cleanup } = await tempDir(`mixed-kill-${mode}`);
  cleanups.push(cleanup);
  const conf = await writeBrokerConf(dir, {
    flushDiskType: mode,
    messageDelayLevel: levelsMs.map((ms) => `${ms}ms`).join(' '),
    timerPrecisionMs: 100,
    transactionTimeOut: 1000,
    transactionCheckInterval: 300,
    flushConsumerOffsetInterval: 500,
  });
  const data = join(dir, 'data');
  let server = await startServer(data, conf);
  for (const topic of Object.values(topicOf)) await createTopic(server.nameServer, server.brokerAddr, topic, 2);
  const nameServer = server.nameServer;
  const clientOpts = { nameServer, clientIp: '127.0.0.1', pollNameServerIntervalMs: 500, heartbeatIntervalMs: 500 };

  const acked = new Map<string, Acked>();
  const seen = new Map<string, Seen>();
  const rolledBack = new Set<string>(); // tx ids (user property) the producer rolled back or would on a check
  const rolledBackDelivered: string[] = [];
  const early: string[] = [];
  let received = 0;

  // The checking consumer: everything but the retry topic, running through the kills as a user's would.
  const check = new PushConsumer({
    ...clientOpts,
    group: 'GID_mix_check',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    consumeConcurrency: 16,
  });
  const record = (m: ReceivedMessage, kind: Kind) => {
    const now = Date.now();
    received++;
    const s = seen.get(m.msgId);
    if (s !== undefined) {
      s.copies++;
      return;
    }
    const fired = Number(m.properties.get(Prop.timerDequeueMs) ?? 0);
    seen.set(m.msgId, {
      kind,
      copies: 1,
      receivedMs: now,
      storeTs: m.storeTimestamp,
      bornTs: m.bornTimestamp,
      timerFiredMs: fired,
    });
  };
  for (const kind of [Kind.normal, Kind.delay, Kind.timer, Kind.tx]) {
    check.subscribe(topicOf[kind], '*');
  }
  check.onMessage((m) => {
    const kind = m.properties.get('kind') as Kind;
    if (kind === Kind.tx && rolledBack.has(m.properties.get('id') as string)) rolledBackDelivered.push(m.msgId);
    record(m, kind);
  });
  await check.start();

  // The failing consumer: throws on a message's first delivery, so the SDK sends it back; takes the retry.
  const firstFailMs = new Map<string, number>();
  const retried = new PushConsumer({
    ...clientOpts,
    group: 'GID_mix_retry',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  retried.subscribe(topicOf.retry, '*').onMessage((m) => {
    if (m.reconsumeTimes === 0) {
      if (!firstFailMs.has(m.msgId)) firstFailMs.set(m.msgId, Date.now());
      throw new Error('first delivery fails on purpose');
    }
    record(m, Kind.retry);
  });
  await retried.start();

  const producer = new Producer({ ...clientOpts, group: 'PID_mix', sendTimeoutMs: 3000 });
  await producer.start();
  const decide = (m: { properties?: Record<string, string> | undefined }) =>
    rolledBack.has(m.properties?.['id'] ?? '') ? TransactionState.ROLLBACK : TransactionState.COMMIT;
  const txProducer = new TransactionProducer({
    ...clientOpts,
    group: 'PID_mix_tx',
    sendTimeoutMs: 3000,
    executeLocal: (m) => decide(m),
    checkLocal: (m) => decide({ properties: { id: m.properties.get('id') ?? '' } }),
  });
  await txProducer.start();

  let seq = 0;
  let failures = 0;
  const sendOne = async (kind: Kind): Promise<void> => {
    const id = `${kind}-${seq++}`;
    const properties = { kind, id };
    const topic = topicOf[kind];
    const body = Buffer.from(id);
    if (kind === Kind.tx) {
      const rollback = seq % 3 === 0;
      if (rollback) rolledBack.add(id);
      const r = await txProducer.send({ topic, body, properties });
      if (r.state === TransactionState.COMMIT) acked.set(r.sendResult.msgId, { kind, notBeforeMs: 0 });
      return;
    }
    if (kind === Kind.delay) {
      const level = 1 + (seq % 2);
      const bornMs = Date.now();
      const r = await producer.send({ topic, body, properties, delayTimeLevel: level });
      acked.set(r.msgId, { kind, notBeforeMs: bornMs + (levelsMs[level - 1] as number) });
      return;
    }
    if (kind === Kind.timer) {
      const due = Date.now() + timerAheadMinMs + Math.floor(Math.random() * (timerAheadMaxMs - timerAheadMinMs));
      const r = await producer.send({ topic, body, properties, deliverTimeMs: due });
      acked.set(r.msgId, { kind, notBeforeMs: due });
      return;
    }
    const r = await producer.send({ topic, body, properties });
    acked.set(r.msgId, { kind, notBeforeMs: 0 });
  };

  const kills: string[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      let stopping = false;
      const sender = async (kind: Kind) => {
        while (!stopping) {
          await sendOne(kind).catch(async () => {
            failures++;
            await sleep(50);
          });
        }
      };
      const senders = Object.values(Kind).flatMap((kind) => Array.from({ length: sendersPerKind }, () => sender(kind)));
      // Kill mid-write, once this round has a few hundred acks in (count-based, not a fixed time).
      const target = acked.size + 150 + Math.floor(Math.random() * 300);
      await waitUntil(() => acked.size >= target, `round ${round}: ${target} acks`, 30_000);
      server.proc.kill('SIGKILL');
      await server.proc.exited;
      kills.push(`round ${round}: killed at ${acked.size} acks`);
      server = await restart(server, data, conf);
      // Sends go on against the restarted broker until it has acked more of each kind, then stop.
      const afterRestart = acked.size + 50;
      await waitUntil(() => acked.size >= afterRestart, `round ${round}: acks after the restart`, 30_000);
      stopping = true;
      await Promise.all(senders);
    }

    const byKind = (kind: Kind) => [...acked].filter(([, a]) => a.kind === kind).map(([id]) => id);
    const missing = () => [...acked.keys()].filter((id) => !seen.has(id));
    await waitUntil(() => missing().length === 0, 'every acknowledged message consumed', waitMs).catch(() => {});
    const left = missing();
    for (const [id, a] of acked) {
      const s = seen.get(id);
      if (s === undefined) continue;
      assert.equal(s.kind, a.kind, `${id} consumed as its kind`);
      if (a.kind === Kind.delay && s.receivedMs < a.notBeforeMs)
        early.push(`${id} delay: ${a.notBeforeMs - s.receivedMs} ms early`);
      // A send that reached the broker after its time (a resend around a kill) is stored as is, not through the
      // wheel (no TIMER_DEQUEUE_MS): then it must have been stored at or after its time.
      const firedMs = s.timerFiredMs === 0 ? s.storeTs : s.timerFiredMs;
      if (a.kind === Kind.timer && (s.receivedMs < a.notBeforeMs || firedMs < a.notBeforeMs))
        early.push(`${id} timer: due ${a.notBeforeMs} fired ${s.timerFiredMs} stored ${s.storeTs} got ${s.receivedMs}`);
      if (a.kind === Kind.retry) {
        const failedMs = firstFailMs.get(id);
        const level3Ms = levelsMs[2] as number;
        if (failedMs === undefined) early.push(`${id} retry: consumed with no failed first delivery`);
        else if (s.storeTs < failedMs + level3Ms)
          early.push(`${id} retry: stored ${failedMs + level3Ms - s.storeTs} ms early`);
      }
    }
    const dup = [...seen.values()].reduce((n, s) => n + s.copies - 1, 0);
    const counts = Object.values(Kind)
      .map((k) => `${k} ${byKind(k).length}`)
      .join(', ');
    const leftKinds = Object.values(Kind).map((k) => `${k} ${left.filter((id) => acked.get(id)?.kind === k).length}`);
    t.diagnostic(
      `${mode}: ${kills.join('; ')}. Acked ${acked.size} (${counts}), ${rolledBack.size} transactions rolled back, ` +
        `${failures} sends failed around the kills; consumed ${received} (${dup} duplicates); acked but never consumed: ${left.length} (${leftKinds.join(', ')})`,
    );
    for (const kind of Object.values(Kind)) assert.ok(byKind(kind).length > 0, `some ${kind} sends acked`);
    assert.deepEqual(early.slice(0, 5), [], `${early.length} delivered early`);
    assert.deepEqual(rolledBackDelivered, [], 'no rolled-back transaction delivered');
    return left.length;
  } finally {
    await producer.shutdown();
    await txProducer.shutdown();
    await check.shutdown();
    await retried.shutdown();
  }
}

test('SYNC_FLUSH, 5 SIGKILL rounds under the mixed load: every acknowledged message of each kind delivered', {
  timeout: 600_000, // each step is bounded on its own (30 s); a loaded machine (load 33–55) passed 150 s in all
}, async (t) => {
  assert.equal(await mixedRounds(t, 'SYNC_FLUSH', 5, 40_000), 0, 'acked but never consumed');
});

test('ASYNC_FLUSH, 2 SIGKILL rounds under the mixed load: nothing early, no rollback; the loss is stated', {
  timeout: 600_000, // each step is bounded on its own (30 s); a loaded machine (load 33–55) passed 150 s in all
}, async (t) => {
  // Under ASYNC_FLUSH an ack follows the write() into the page cache, which a process kill leaves intact; only
  // the flushed part survives a power loss. The count is reported (as test/fault/store-crash.test.ts does).
  const missing = await mixedRounds(t, 'ASYNC_FLUSH', 2, 15_000);
  t.diagnostic(`ASYNC_FLUSH: a process kill lost ${missing} acked messages`);
});
