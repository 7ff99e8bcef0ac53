/** startEmbedded() serves SQL92 subscriptions by default (enablePropertyFilter on, as `tsrocket start`). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setLogLevel } from '../../src/common/log.js';
import { ConsumeFromWhere, Producer, PushConsumer, startEmbedded } from '../../src/index.js';
import { waitUntil } from './procs.js';

setLogLevel('error');

test('startEmbedded: a PushConsumer with { sql } receives exactly the matching messages', async () => {
  const cluster = await startEmbedded();
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'sql_embedded_pg' });
  const consumer = new PushConsumer({
    nameServer: cluster.nameServer,
    group: 'sql_embedded_cg',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  try {
    await producer.start();
    const want = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await producer.send({ topic: 'SqlEmbedded', body: `e${i}`, properties: { n: String(i) } });
      if (i % 7 === 0) want.add(r.msgId);
    }
    const got: string[] = [];
    consumer.subscribe('SqlEmbedded', { sql: "n IN ('0', '7', '14', '21', '28')" }).onMessage((m) => {
      got.push(m.msgId);
    });
    await consumer.start();
    await waitUntil(() => got.length >= want.size, `${want.size} matching messages`, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(got.length, want.size);
    assert.deepEqual(new Set(got), want);
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
    await cluster.close();
  }
});
