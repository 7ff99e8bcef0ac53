/**
 * Orderly (LOCK_BATCH_MQ 41 / UNLOCK_BATCH_MQ 42 + pull) and POP consumers of other groups share one topic: each
 * group gets every message, the orderly and the FIFO POP group each in order per sharding key.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setLogLevel } from '../../src/common/log.js';
import { ConsumeFromWhere, Producer, PushConsumer, startEmbedded } from '../../src/index.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { ack, popRaw } from '../broker/pop/pop-client.js';
import { waitUntil } from './procs.js';

setLogLevel('error');

const keys = ['k0', 'k1', 'k2'];
const perKey = 10;

/** Sequence numbers by key, from bodies `<key>-<seq>`. */
function byKey(bodies: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const b of bodies) {
    const [k, s] = b.split('-') as [string, string];
    out.set(k, [...(out.get(k) ?? []), Number(s)]);
  }
  return out;
}

const inOrder = [...Array(perKey).keys()];

test('orderly and POP (FIFO and not) consumers of different groups coexist on one topic', async () => {
  const mq = await startEmbedded();
  const producer = new Producer({ nameServer: mq.nameServer, group: 'PID_pop_mix', clientIp: '127.0.0.1' });
  const orderly = new PushConsumer({
    nameServer: mq.nameServer,
    group: 'GID_pop_mix_orderly',
    clientIp: '127.0.0.1',
    orderly: true,
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  const ep = { client: new RemotingClient(), addr: mq.brokerAddr };
  const topic = 'PopOrderlyMix';
  try {
    await producer.start();
    for (let s = 0; s < perKey; s++) {
      for (const k of keys) await producer.send({ topic, body: `${k}-${s}` }, { shardingKey: k });
    }
    const orderlyGot: string[] = [];
    orderly.subscribe(topic, '*').onMessage((msg) => {
      orderlyGot.push(msg.body.toString());
    });
    await orderly.start();

    const fifoGot: string[] = [];
    const plainGot: string[] = [];
    const total = keys.length * perKey;
    const deadline = Date.now() + 30_000;
    while ((fifoGot.length < total || plainGot.length < total) && Date.now() < deadline) {
      for (const [group, fifo, got] of [
        ['GID_pop_mix_fifo', true, fifoGot],
        ['GID_pop_mix_plain', false, plainGot],
      ] as const) {
        if (got.length >= total) continue;
        const p = await popRaw(ep, topic, { consumerGroup: group, order: fifo, maxMsgNums: 4, pollTime: 500n });
        if (p.resp.code === ResponseCode.POLLING_TIMEOUT) continue;
        assert.equal(p.resp.code, 0, p.resp.remark);
        for (const m of p.msgs) {
          got.push(m.body.toString());
          assert.equal((await ack(ep, topic, m, group)).code, 0);
        }
      }
    }
    await waitUntil(() => orderlyGot.length >= total, 'the orderly group got every message', 20_000);
    for (const got of [orderlyGot, fifoGot, plainGot]) assert.equal(new Set(got).size, total);
    for (const [k, seqs] of byKey(orderlyGot)) assert.deepEqual(seqs, inOrder, `orderly ${k}`);
    for (const [k, seqs] of byKey(fifoGot)) assert.deepEqual(seqs, inOrder, `FIFO POP ${k}`);
  } finally {
    await ep.client.close();
    await orderly.shutdown();
    await producer.shutdown();
    await mq.close();
  }
});
