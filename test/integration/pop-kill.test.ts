/**
 * POP state survives SIGKILL of the broker: with messages popped (some acked, some not) and consumer offsets never
 * persisted before the kill, the restarted broker reads the check points and acks back from the revive log: every
 * unacked message is delivered again (from the retry topic, one attempt more), no acked one is, the never-popped
 * ones are delivered once, and nothing stays invisible (bounded wait).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RemotingClient } from '../../src/remoting/client.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { sendV2 } from '../broker/helpers.js';
import { ack, popRaw } from '../broker/pop/pop-client.js';
import { createTopic, Proc, type Server, startArgs, startServer, stopAll, tempDir, writeBrokerConf } from './procs.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

async function restart(server: Server, data: string, conf: string): Promise<Server> {
  const ns = Number(server.nameServer.split(':')[1]);
  const broker = Number(server.brokerAddr.split(':')[1]);
  const proc = new Proc('tsrocket start (restarted)', [...startArgs(data, ns, broker), '-c', conf]);
  await proc.line(/tsrocket started/);
  return { proc, nameServer: server.nameServer, brokerAddr: server.brokerAddr };
}

test('SIGKILL with popped messages: every message is acked or delivered again, acked ones never, none stuck', async () => {
  const { dir, cleanup } = await tempDir('pop-kill');
  cleanups.push(cleanup);
  // Offsets (the group's and the revive checkpoint) are only written at stop: the kill loses them all.
  const conf = await writeBrokerConf(dir, { reviveInterval: 200, flushConsumerOffsetInterval: 600_000 });
  const data = join(dir, 'data');
  const first = await startServer(data, conf);
  const topic = 'ItPopKill';
  await createTopic(first.nameServer, first.brokerAddr, topic, 2);
  const total = 60;
  const popCount = 40;
  let ep = { client: new RemotingClient(), addr: first.brokerAddr };
  for (let i = 0; i < total; i++) {
    const r = await sendV2(ep, topic, `m${i}`, {}, i % 2);
    assert.equal(r.code, 0, r.remark);
  }
  const acked = new Set<string>();
  const unacked = new Set<string>();
  while (acked.size + unacked.size < popCount) {
    const want = Math.min(8, popCount - acked.size - unacked.size);
    const p = await popRaw(ep, topic, { consumerGroup: 'gk', maxMsgNums: want, invisibleTime: 5000n });
    assert.equal(p.resp.code, 0, p.resp.remark);
    for (const m of p.msgs) {
      const body = m.body.toString();
      if (Number(body.slice(1)) % 2 === 0) {
        assert.equal((await ack(ep, topic, m, 'gk')).code, 0);
        acked.add(body);
      } else unacked.add(body);
    }
  }
  await ep.client.close();
  first.proc.kill('SIGKILL');
  await first.proc.exited;

  const second = await restart(first, data, conf);
  ep = { client: new RemotingClient(), addr: second.brokerAddr };
  try {
    const got = new Map<string, number[]>();
    const deadline = Date.now() + 30_000;
    const expected = total - acked.size;
    while (got.size < expected && Date.now() < deadline) {
      const p = await popRaw(ep, topic, { consumerGroup: 'gk', pollTime: 2000n, invisibleTime: 60_000n });
      if (p.resp.code === ResponseCode.POLLING_TIMEOUT) continue;
      assert.equal(p.resp.code, 0, p.resp.remark);
      for (const m of p.msgs) {
        const body = m.body.toString();
        got.set(body, [...(got.get(body) ?? []), m.reconsumeTimes]);
        assert.equal((await ack(ep, topic, m, 'gk')).code, 0);
      }
    }
    for (const body of acked) assert.ok(!got.has(body), `acked ${body} delivered again`);
    for (const body of unacked)
      assert.deepEqual(got.get(body), [1], `unacked ${body} delivered again once, as a retry`);
    for (let i = 0; i < total; i++) {
      const body = `m${i}`;
      if (!acked.has(body) && !unacked.has(body)) assert.deepEqual(got.get(body), [0], `never popped ${body}`);
    }
    assert.equal(got.size, expected);
    // Nothing more comes: every message was acked.
    assert.equal(
      (await popRaw(ep, topic, { consumerGroup: 'gk', pollTime: 1500n })).resp.code,
      ResponseCode.POLLING_TIMEOUT,
    );
  } finally {
    await ep.client.close();
  }
});
