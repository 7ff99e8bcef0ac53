/**
 * Timer messages across a broker SIGKILL: 10,000 messages due at random times 1–60 s ahead, the broker process
 * killed about halfway and restarted on the same port and data dir. Every acknowledged message is consumed, none
 * before its time (checked at the broker, TIMER_DEQUEUE_MS, and at the consumer); duplicates are counted.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { setLogLevel } from '../../src/common/log.js';
import { Prop } from '../../src/common/properties.js';
import { createTopic, startBroker, startNamesrv, stopAll, tempDir, waitUntil, writeBrokerConf } from './procs.js';

setLogLevel('error');
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

const total = 10_000;
const aheadMinMs = 1000;
const aheadMaxMs = 60_000;

test('10,000 timer messages, broker SIGKILLed and restarted halfway: all delivered, none early', async (t) => {
  const { dir, cleanup } = await tempDir('timer-restart');
  cleanups.push(cleanup);
  const namesrv = await startNamesrv(dir);
  const conf = await writeBrokerConf(dir, {
    brokerClusterName: 'ItCluster',
    brokerName: 'broker-timer',
    mappedFileSizeCommitLog: 64 * 1024 * 1024,
    timerPrecisionMs: 100,
    listenHost: '127.0.0.1',
  });
  const data = join(dir, 'broker');
  const first = await startBroker(conf, namesrv.addr, data, 0);
  const port = Number(first.addr.split(':')[1]);
  const topic = 'ItTimerRestart';
  await createTopic(namesrv.addr, first.addr, topic, 4);

  const got = new Map<string, number>();
  let received = 0;
  const early: string[] = [];
  const consumer = new PushConsumer({
    nameServer: namesrv.addr,
    group: 'GID_it_timer',
    clientIp: '127.0.0.1',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    consumeConcurrency: 64,
  });
  consumer.subscribe(topic, '*').onMessage((m) => {
    const now = Date.now();
    const due = Number(m.keys[0]);
    received++;
    if (!got.has(m.msgId)) got.set(m.msgId, now);
    const fired = Number(m.properties.get(Prop.timerDequeueMs));
    if (due > 0 && (now < due || !(fired >= due))) early.push(`${m.msgId} due ${due} fired ${fired} got ${now}`);
  });
  await consumer.start();
  const producer = new Producer({ nameServer: namesrv.addr, group: 'PID_it_timer', clientIp: '127.0.0.1' });
  await producer.start();
  const acked = new Map<string, number>();
  try {
    let next = 0;
    const sender = async () => {
      while (next < total) {
        next++;
        const due = Date.now() + aheadMinMs + Math.floor(Math.random() * (aheadMaxMs - aheadMinMs));
        const r = await producer.send({ topic, body: `t${due}`, keys: String(due), deliverTimeMs: due });
        acked.set(r.msgId, due);
      }
    };
    const sendStart = Date.now();
    await Promise.all(Array.from({ length: 64 }, sender));
    const sentMs = Date.now() - sendStart;
    await sleep(Math.max(0, sendStart + aheadMaxMs / 2 - Date.now()));
    const deliveredBeforeKill = got.size;
    first.proc.kill('SIGKILL');
    await first.proc.exited;
    const second = await startBroker(conf, namesrv.addr, data, port);
    assert.equal(second.addr, first.addr, 'restarted on the same port');
    await waitUntil(
      () => [...acked.keys()].every((id) => got.has(id)),
      'every acked timer message consumed',
      aheadMaxMs + 30_000,
    );
    const lateMs = [...acked].map(([id, due]) => (got.get(id) as number) - due).sort((a, b) => a - b);
    t.diagnostic(
      `sent ${acked.size} in ${sentMs} ms; ${deliveredBeforeKill} consumed before the kill; received ${received} ` +
        `(${received - got.size} duplicates); lateness p50 ${lateMs[lateMs.length >> 1]} ms, ` +
        `max ${lateMs[lateMs.length - 1]} ms (includes the restart)`,
    );
    assert.equal(acked.size, total);
    assert.ok(deliveredBeforeKill > 0 && deliveredBeforeKill < total, 'the kill came while messages were pending');
    assert.deepEqual(early.slice(0, 5), [], `${early.length} delivered early`);
  } finally {
    await producer.shutdown();
    await consumer.shutdown();
  }
});
