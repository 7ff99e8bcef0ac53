/**
 * Delayed messages and send-back retries survive SIGKILL of the broker (SYNC_FLUSH): pending delayed messages
 * are all delivered after the restart, none early, and those delivered before the crash whose progress was not
 * written yet are not delivered again (skipped and counted); a send-back answered SUCCESS right before the kill
 * still comes back as its retry.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Admin } from '../../src/client/admin/admin.js';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { decodeOffsetMsgId } from '../../src/common/record.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { encodeSendMsgBackHeader } from '../../src/remoting/protocol/send-back.js';
import {
  createTopic,
  Proc,
  runtimeInfo,
  type Server,
  startArgs,
  startServer,
  stopAll,
  tempDir,
  waitUntil,
  writeBrokerConf,
} from './procs.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

/** `tsrocket start` again on the same ports and data dir, after a SIGKILL. */
async function restart(server: Server, data: string, conf: string): Promise<Server> {
  const ns = Number(server.nameServer.split(':')[1]);
  const broker = Number(server.brokerAddr.split(':')[1]);
  const proc = new Proc('tsrocket start (restarted)', [...startArgs(data, ns, broker), '-c', conf]);
  await proc.line(/tsrocket started/);
  return { proc, nameServer: server.nameServer, brokerAddr: server.brokerAddr };
}

async function kill(server: Server): Promise<void> {
  server.proc.kill('SIGKILL');
  await server.proc.exited;
}

test('SIGKILL with pending delayed messages: none lost, none early, none delivered twice (skips counted)', async (t) => {
  const { dir, cleanup } = await tempDir('delay-kill');
  cleanups.push(cleanup);
  const levelsMs = [1000, 4000];
  // Progress is written only at stop here, so everything delivered before the kill is found again after it.
  const conf = await writeBrokerConf(dir, {
    messageDelayLevel: '1s 4s',
    flushDiskType: 'SYNC_FLUSH',
    flushDelayOffsetInterval: 600_000,
  });
  const data = join(dir, 'data');
  const first = await startServer(data, conf);
  const topic = 'ItDelayKill';
  await createTopic(first.nameServer, first.brokerAddr, topic, 2);
  const producer = new Producer({ nameServer: first.nameServer, clientIp: '127.0.0.1' });
  await producer.start();
  const acked = new Map<string, number>();
  try {
    // One after the other: a burst on a loaded machine meets the broker's flow control (SYSTEM_BUSY).
    for (let i = 0; i < 40; i++) {
      const level = i % 2 === 0 ? 1 : 2;
      const r = await producer.send({ topic, body: Buffer.from(`m${i}`), tags: `L${level}`, delayTimeLevel: level });
      acked.set(r.msgId, level);
    }
  } finally {
    await producer.shutdown();
  }
  // Kill once level 1 is delivered while level 2 still waits.
  let delivered = 0;
  const deadline = Date.now() + 10_000;
  while (delivered < 20 && Date.now() < deadline) {
    delivered = Number((await runtimeInfo(first.nameServer, first.brokerAddr))['delayMessagesDelivered']);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(delivered >= 20, `level 1 delivered before the kill (${delivered})`);
  await kill(first);

  const second = await restart(first, data, conf);
  const got = new Map<string, { level: number; storeTs: number; bornTs: number; copies: number }>();
  const consumer = new PushConsumer({
    nameServer: second.nameServer,
    group: 'GID_it_delay_kill',
    clientIp: '127.0.0.1',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  consumer.subscribe(topic, '*').onMessage((msg) => {
    const seen = got.get(msg.msgId);
    if (seen !== undefined) seen.copies++;
    else
      got.set(msg.msgId, {
        level: Number(msg.tags?.slice(1)),
        storeTs: msg.storeTimestamp,
        bornTs: msg.bornTimestamp,
        copies: 1,
      });
  });
  await consumer.start();
  const admin = new Admin({ nameServer: second.nameServer, timeoutMs: 5000 });
  let stored = 0;
  let info: Record<string, string> = {};
  try {
    await waitUntil(() => [...acked.keys()].every((id) => got.has(id)), 'every acked delayed message', 20_000);
    // The level-1 messages were in the topic before the kill: wait until the service has gone past them too.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      info = await runtimeInfo(second.nameServer, second.brokerAddr);
      if (info['scheduleMessageOffset_1'] === '20,20' && info['scheduleMessageOffset_2'] === '20,20') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    stored = (await admin.topicStatus(topic)).reduce((n, q) => n + q.maxOffset, 0);
  } finally {
    await admin.close();
    await consumer.shutdown();
  }
  for (const [id, level] of acked) {
    const m = got.get(id);
    assert.ok(m !== undefined);
    assert.equal(m.level, level);
    const delayMs = levelsMs[level - 1] as number;
    assert.ok(m.storeTs - m.bornTs >= delayMs, `${id} (level ${level}) re-put ${m.storeTs - m.bornTs} ms after born`);
  }
  const skipped = Number(info['delayDuplicatesSkipped']);
  t.diagnostic(`delivered before the kill ${delivered}; after the restart: skipped as already delivered ${skipped}`);
  assert.equal(stored, acked.size, 'each delayed message stored once in its topic');
  assert.ok(skipped >= 20, 'the level-1 messages delivered before the kill were found and skipped');
  assert.equal(info['scheduleMessageOffset_1'], '20,20');
  assert.equal(info['scheduleMessageOffset_2'], '20,20');
});

test('SIGKILL right after a send-back is answered SUCCESS: the retry still arrives', async () => {
  const { dir, cleanup } = await tempDir('sendback-kill');
  cleanups.push(cleanup);
  const conf = await writeBrokerConf(dir, { messageDelayLevel: '1s 1s 1s', flushDiskType: 'SYNC_FLUSH' });
  const data = join(dir, 'data');
  const first = await startServer(data, conf);
  const topic = 'ItSendBackKill';
  const group = 'GID_it_sendback_kill';
  await createTopic(first.nameServer, first.brokerAddr, topic, 1);
  const producer = new Producer({ nameServer: first.nameServer, clientIp: '127.0.0.1' });
  await producer.start();
  const sent = await producer.send({ topic, body: Buffer.from('retry-me'), tags: 'S' });
  await producer.shutdown();
  const client = new RemotingClient();
  try {
    const req = createRequest(
      RequestCode.CONSUMER_SEND_MSG_BACK,
      encodeSendMsgBackHeader({
        offset: decodeOffsetMsgId(sent.offsetMsgId).commitLogOffset,
        group,
        delayLevel: 0,
        originMsgId: sent.msgId,
        originTopic: topic,
        maxReconsumeTimes: 16,
      }),
    );
    const resp = await client.invoke(first.brokerAddr, req, 5000);
    assert.equal(resp.code, ResponseCode.SUCCESS, resp.remark);
    first.proc.kill('SIGKILL'); // in the turn the SUCCESS arrived
  } finally {
    await client.close();
  }
  await first.proc.exited;

  const second = await restart(first, data, conf);
  const seen: { reconsumeTimes: number; body: string }[] = [];
  const consumer = new PushConsumer({
    nameServer: second.nameServer,
    group,
    clientIp: '127.0.0.1',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  });
  consumer.subscribe(topic, '*').onMessage((msg) => {
    seen.push({ reconsumeTimes: msg.reconsumeTimes, body: msg.body.toString() });
  });
  await consumer.start();
  try {
    await waitUntil(() => seen.some((s) => s.reconsumeTimes === 1), 'the sent-back retry', 20_000);
  } finally {
    await consumer.shutdown();
  }
  const retry = seen.find((s) => s.reconsumeTimes === 1);
  assert.equal(retry?.body, 'retry-me');
});
