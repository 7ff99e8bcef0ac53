/**
 * Timer messages through the whole broker (embedded, file store, timerPrecisionMs 100): the SDK's deliverTimeMs /
 * delayMs and raw TIMER_* / __STARTDELIVERTIME properties are delivered no earlier than asked and within a slot
 * and a bit after, with the msgId kept and the timer properties gone; bad values get a clear send error.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setLogLevel } from '../../../src/common/log.js';
import { Prop } from '../../../src/common/properties.js';
import { ConsumeFromWhere, type EmbeddedCluster, Producer, PushConsumer, startEmbedded } from '../../../src/index.js';
import { waitUntil } from '../../integration/procs.js';

setLogLevel('error');

let mq: EmbeddedCluster;
let producer: Producer;
before(async () => {
  mq = await startEmbedded({ storeConfig: { timerPrecisionMs: 100, timerMaxDelaySec: 60 } });
  producer = new Producer({ nameServer: mq.nameServer, group: 'PID_timer_e2e', clientIp: '127.0.0.1' });
  await producer.start();
});
after(async () => {
  await producer.shutdown();
  await mq.close();
});

interface Got {
  atMs: number;
  props: Map<string, string>;
  topic: string;
  queueId: number;
}

test('each way of asking for a time is delivered at or after it, within 600 ms', async () => {
  const topic = 'TimerE2E';
  const got = new Map<string, Got>();
  const consumer = new PushConsumer({
    nameServer: mq.nameServer,
    group: 'GID_timer_e2e',
    clientIp: '127.0.0.1',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  consumer.subscribe(topic, '*').onMessage((m) => {
    got.set(m.msgId, { atMs: Date.now(), props: m.properties, topic: m.topic, queueId: m.queueId });
  });
  await consumer.start();
  try {
    // The consumer owns the topic's queues before the clock starts.
    const warm = await producer.send({ topic, body: 'warm-up' });
    await waitUntil(() => got.has(warm.msgId), 'warm-up message consumed', 10_000);
    const due = new Map<string, number>();
    const t0 = Date.now();
    const sends: Array<[Parameters<Producer['send']>[0], number]> = [
      [{ topic, body: 'a', deliverTimeMs: t0 + 1200 }, t0 + 1200],
      [{ topic, body: 'b', delayMs: 900 }, t0 + 900],
      [{ topic, body: 'c', properties: { [Prop.timerDelaySec]: '1' } }, t0 + 1000],
      [{ topic, body: 'd', properties: { [Prop.startDeliverTime]: String(t0 + 1500) } }, t0 + 1500],
      [{ topic, body: 'e', tags: 'TagT', keys: 'k1', delayMs: 700 }, t0 + 700],
      [{ topic, body: 'f', deliverTimeMs: t0 - 10_000 }, t0],
    ];
    for (const [m, dueMs] of sends) {
      const r = await producer.send(m);
      due.set(r.msgId, dueMs);
    }
    await waitUntil(() => [...due.keys()].every((id) => got.has(id)), 'every timer message delivered', 10_000);
    for (const [id, dueMs] of due) {
      const g = got.get(id) as Got;
      assert.ok(g.atMs >= dueMs, `message ${id} delivered ${dueMs - g.atMs} ms early`);
      assert.ok(g.atMs - dueMs < 600, `message ${id} delivered ${g.atMs - dueMs} ms late`);
      assert.equal(g.topic, topic);
      // A time already past is stored as a normal message, its properties as sent (RocketMQ).
      if (dueMs === t0) continue;
      assert.ok(g.props.has(Prop.timerDequeueMs));
      for (const k of [Prop.realTopic, Prop.realQueueId, Prop.timerOutMs, Prop.timerDelayMs, Prop.timerDeliverMs]) {
        assert.equal(g.props.has(k), false, `${k} removed`);
      }
    }
    const e = [...got.values()].find((g) => g.props.get(Prop.tags) === 'TagT') as Got;
    assert.equal(e.props.get(Prop.keys), 'k1');
    assert.ok(Number(e.props.get(Prop.timerDequeueMs)) >= Number(e.props.get(Prop.timerEnqueueMs)));
  } finally {
    await consumer.shutdown();
  }
});

test('bad timer values: the SDK refuses its own options, the broker refuses raw properties clearly', async () => {
  const topic = 'TimerE2EBad';
  await assert.rejects(producer.send({ topic, body: 'x', deliverTimeMs: 1.5 }), /deliverTimeMs must be/);
  await assert.rejects(producer.send({ topic, body: 'x', delayMs: -1 }), /delayMs must be/);
  await assert.rejects(producer.send({ topic, body: 'x', delayMs: 1, deliverTimeMs: 2 }), /not both/);
  await assert.rejects(producer.send({ topic, body: 'x', delayMs: 1, delayTimeLevel: 2 }), /not both/);
  await assert.rejects(
    producer.send({ topic, body: 'x', properties: { [Prop.timerDelaySec]: 'soon' } }),
    /timer message illegal, TIMER_DELAY_SEC is not an integer/,
  );
  await assert.rejects(producer.send({ topic, body: 'x', delayMs: 61_000 }), /more than timerMaxDelaySec=60/);
});
