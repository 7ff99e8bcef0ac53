/**
 * New-group and new-topic floods (issue 11, defect 2): pulls, heartbeats and sends naming thousands of new
 * groups and topics finish quickly with a bounded number of metadata writes and bounded memory, a normal send
 * during the flood is served, and past the auto-creation limits further names are refused with a remark naming
 * the limit while existing topics and groups keep working.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Broker } from '../../src/broker/broker.js';
import type { BrokerConfig } from '../../src/broker/config.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest, createResponse } from '../../src/remoting/command.js';
import { RemotingServer } from '../../src/remoting/server.js';
import { FaultyStorageIO } from '../../src/store/fault-io.js';
import { NodeStorageIO } from '../../src/store/io.js';
import { call, createTopic, type Endpoint, pull, sendV2 } from './helpers.js';

const floodN = 2000;
/** Peak RSS growth allowed for 2,000 new groups (pull and heartbeat) and 2,000 new topics, file store included. */
const floodRssBytesMax = 192 * 1024 * 1024;

interface FileHarness extends Endpoint {
  broker: Broker;
  io: FaultyStorageIO;
  close(): Promise<void>;
}

/** A broker on the file store whose metadata files are written through a counting StorageIO. */
async function startFileBroker(over: Partial<BrokerConfig> = {}): Promise<FileHarness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-flood-'));
  const io = new FaultyStorageIO(new NodeStorageIO(), 11);
  const broker = new Broker(
    {
      listenPort: 0,
      listenHost: '127.0.0.1',
      namesrvAddr: '',
      storePathRootDir: dir,
      // These floods come on one connection to stress metadata, not the send queue's flow control (whose
      // [TIMEOUT_CLEAN_QUEUE] answers are tested in test/broker/fairness.test.ts): no wait bound here.
      waitTimeMillsInSendQueue: 600_000,
      ...over,
    },
    {},
    { metadataIO: io },
  );
  await broker.start();
  const client = new RemotingClient();
  return {
    broker,
    client,
    addr: `127.0.0.1:${broker.port}`,
    io,
    async close() {
      await client.close();
      await broker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function heartbeatBody(clientID: string, group: string, topic: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      clientID,
      producerDataSet: [],
      consumerDataSet: [
        {
          groupName: group,
          consumeType: 'CONSUME_PASSIVELY',
          messageModel: 'CLUSTERING',
          consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
          subscriptionDataSet: [{ topic, subString: '*', tagsSet: [], codeSet: [], subVersion: 1 }],
          unitMode: false,
        },
      ],
    }),
  );
}

test('2,000 pulls and heartbeats with new groups and 2,000 sends to new topics: quick, few writes, bounded RSS, normal sends served', async () => {
  // One connection carries all 2,000 heartbeats here: raise its registration limit (tested below).
  const h = await startFileBroker({ clientRegistrationsPerConnectionMax: 2 * floodN });
  try {
    await createTopic(h, 'Normal', 4);
    assert.equal((await sendV2(h, 'Normal', 'warm-up')).code, ResponseCode.SUCCESS);
    const writesBefore = h.io.counters.writes;
    const rssBefore = process.memoryUsage.rss();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }, 10);
    const startMs = Date.now();
    const cpuBefore = process.cpuUsage();
    const flood: Promise<{ code: number; remark?: string | undefined }>[] = [];
    for (let i = 0; i < floodN; i++) {
      flood.push(pull(h, 'Normal', 0, 0, { consumerGroup: `flood-pull-${i}`, suspendTimeoutMillis: 0 }, 60_000));
      flood.push(call(h, RequestCode.HEART_BEAT, {}, heartbeatBody(`hb-${i}`, `flood-hb-${i}`, 'Normal'), 60_000));
      flood.push(sendV2(h, `flood-topic-${i}`, 'x', {}, -1, 60_000));
    }
    // A well-behaved client's send in the middle of the flood (its own connection).
    const wellBehaved = new RemotingClient();
    const normal = await sendV2(
      { client: wellBehaved, addr: h.addr },
      'Normal',
      'during the flood',
      {},
      0,
      60_000,
    ).finally(() => wellBehaved.close());
    const answers = await Promise.all(flood);
    const elapsedMs = Date.now() - startMs;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    await Promise.all([h.broker.topics.persist(), h.broker.groups.persist()]);
    clearInterval(sampler);

    assert.equal(normal.code, ResponseCode.SUCCESS, normal.remark);
    const codes = new Map<number, number>();
    for (const a of answers) codes.set(a.code, (codes.get(a.code) ?? 0) + 1);
    // Every pull finds the warm-up message, every heartbeat and send succeeds: no SYSTEM_BUSY, no refusal.
    assert.deepEqual([...codes], [[ResponseCode.SUCCESS, 3 * floodN]], `answers by code: ${[...codes]}`);
    // Quick: the CPU this process (broker and clients) spent, not the wall time, which a busy machine stretches
    // (34 s of wall time at load 35).
    assert.ok(cpuMs < 30_000, `flood took ${cpuMs.toFixed(0)} ms of CPU (${elapsedMs} ms of wall time)`);

    // Coalesced: a write per file at most every 100 ms (and one more at the end), not one per change.
    const writes = h.io.counters.writes - writesBefore;
    const writesMax = 3 * (Math.ceil(elapsedMs / 100) + 2);
    assert.ok(writes <= writesMax, `${writes} metadata writes in ${elapsedMs} ms (max ${writesMax})`);
    const growth = rssPeak - rssBefore;
    assert.ok(growth < floodRssBytesMax, `RSS grew ${growth >> 20} MiB (max ${floodRssBytesMax >> 20})`);

    assert.equal(h.broker.groups.all().length >= 2 * floodN, true);
    assert.ok(h.broker.topics.get(`flood-topic-${floodN - 1}`) !== undefined);
  } finally {
    await h.close();
  }
});

test('past autoCreateTopicMax and autoCreateSubscriptionGroupMax new names are refused with a remark naming the limit; existing ones keep working', async () => {
  const h = await startFileBroker({ autoCreateTopicMax: 30, autoCreateSubscriptionGroupMax: 20 });
  try {
    await createTopic(h, 'Existing', 2);
    // Topics: sends to new names until refused.
    let createdTopics = 0;
    let refusedTopic: { code: number; remark?: string | undefined } | undefined;
    for (let i = 0; i < 100 && refusedTopic === undefined; i++) {
      const r = await sendV2(h, `auto-${i}`, 'x', {}, -1);
      if (r.code === ResponseCode.SUCCESS) createdTopics++;
      else refusedTopic = r;
    }
    assert.ok(createdTopics > 0 && createdTopics < 30, `auto-created ${createdTopics}`);
    assert.equal(refusedTopic?.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.match(refusedTopic?.remark ?? '', /not auto-created.*autoCreateTopicMax=30/);
    assert.equal((await sendV2(h, 'auto-0', 'still served')).code, ResponseCode.SUCCESS);
    assert.equal((await sendV2(h, 'Existing', 'still served')).code, ResponseCode.SUCCESS);
    assert.equal((await createTopic(h, 'AdminMade', 1)) === undefined, true, 'admin creation is not limited');

    // Groups: pulls with new names until refused; heartbeats, offset commits and %RETRY% sends too.
    let createdGroups = 0;
    let refusedGroup: { code: number; remark?: string | undefined } | undefined;
    for (let i = 0; i < 100 && refusedGroup === undefined; i++) {
      const r = await pull(h, 'Existing', 0, 0, { consumerGroup: `g-${i}`, suspendTimeoutMillis: 0 });
      if (r.code === ResponseCode.PULL_NOT_FOUND || r.code === ResponseCode.SUCCESS) createdGroups++;
      else refusedGroup = r;
    }
    assert.equal(createdGroups, 20);
    assert.equal(refusedGroup?.code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);
    assert.match(refusedGroup?.remark ?? '', /not auto-created.*autoCreateSubscriptionGroupMax=20/);
    const hb = await call(h, RequestCode.HEART_BEAT, {}, heartbeatBody('c1', 'g-new', 'Existing'));
    assert.equal(hb.code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);
    assert.match(hb.remark ?? '', /autoCreateSubscriptionGroupMax=20/);
    const commit = await call(h, RequestCode.UPDATE_CONSUMER_OFFSET, {
      consumerGroup: 'g-new',
      topic: 'Existing',
      queueId: 0,
      commitOffset: 1,
    });
    assert.equal(commit.code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);
    const retrySend = await sendV2(h, '%RETRY%g-new', 'x');
    assert.equal(retrySend.code, ResponseCode.TOPIC_NOT_EXIST);

    // Existing groups keep working: pull, heartbeat (creates its retry topic), commit, send to its retry topic.
    const existingPull = await pull(h, 'Existing', 0, 0, { consumerGroup: 'g-0', suspendTimeoutMillis: 0 });
    assert.equal(existingPull.code, ResponseCode.SUCCESS, existingPull.remark);
    const hbOld = await call(h, RequestCode.HEART_BEAT, {}, heartbeatBody('c2', 'g-1', 'Existing'));
    assert.equal(hbOld.code, ResponseCode.SUCCESS, hbOld.remark);
    const commitOld = await call(h, RequestCode.UPDATE_CONSUMER_OFFSET, {
      consumerGroup: 'g-1',
      topic: 'Existing',
      queueId: 0,
      commitOffset: 1,
    });
    assert.equal(commitOld.code, ResponseCode.SUCCESS, commitOld.remark);
    assert.equal((await sendV2(h, '%RETRY%g-2', 'retry')).code, ResponseCode.SUCCESS);
  } finally {
    await h.close();
  }
});

test('a topic flood re-registers with the NameServer coalesced, and the last round carries every topic', async () => {
  const namesrv = new RemotingServer({ name: 'fake-namesrv', port: 0, host: '127.0.0.1' });
  const topicsPerRound: number[] = [];
  namesrv.registerProcessor(RequestCode.REGISTER_BROKER, (req) => {
    const body = JSON.parse((req.body ?? Buffer.alloc(0)).toString('utf8'));
    topicsPerRound.push(Object.keys(body.topicConfigSerializeWrapper.topicConfigTable).length);
    return createResponse(req, ResponseCode.SUCCESS);
  });
  await namesrv.start();
  const h = await startFileBroker({ namesrvAddr: `127.0.0.1:${namesrv.port}` });
  try {
    const roundsBefore = topicsPerRound.length;
    const startMs = Date.now();
    const sends: Promise<{ code: number }>[] = [];
    for (let i = 0; i < 1500; i++) sends.push(sendV2(h, `reg-flood-${i}`, 'x', {}, -1, 60_000));
    for (const r of await Promise.all(sends)) assert.equal(r.code, ResponseCode.SUCCESS);
    const elapsedMs = Date.now() - startMs;
    const total = h.broker.topics.all().length;
    const deadline = Date.now() + 5000;
    while (topicsPerRound.at(-1) !== total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const rounds = topicsPerRound.length - roundsBefore;
    assert.equal(topicsPerRound.at(-1), total, 'the last registration carries the whole table');
    const roundsMax = Math.ceil((Date.now() - startMs) / 100) + 2;
    assert.ok(rounds <= roundsMax, `${rounds} registrations in ${elapsedMs} ms (max ${roundsMax})`);
  } finally {
    await h.close();
    await namesrv.close();
  }
});

test('a connection past clientRegistrationsPerConnectionMax is refused naming the key; its registrations and other connections keep working', async () => {
  const h = await startFileBroker({ clientRegistrationsPerConnectionMax: 5 });
  const other = new RemotingClient();
  try {
    await createTopic(h, 'Existing', 1);
    const producers = (names: string[]) =>
      Buffer.from(JSON.stringify({ clientID: 'flooder', producerDataSet: names.map((groupName) => ({ groupName })) }));
    const first = ['p0', 'p1', 'p2', 'p3', 'p4'];
    assert.equal((await call(h, RequestCode.HEART_BEAT, {}, producers(first))).code, ResponseCode.SUCCESS);
    const more = await call(h, RequestCode.HEART_BEAT, {}, producers([...first, 'p5']));
    assert.equal(more.code, ResponseCode.SYSTEM_ERROR);
    assert.match(more.remark ?? '', /clientRegistrationsPerConnectionMax=5/);
    const consumer = await call(h, RequestCode.HEART_BEAT, {}, heartbeatBody('flooder', 'cg-new', 'Existing'));
    assert.equal(consumer.code, ResponseCode.SYSTEM_ERROR, 'a consumer registration counts too');
    assert.equal((await call(h, RequestCode.HEART_BEAT, {}, producers(first))).code, ResponseCode.SUCCESS);
    assert.equal(h.broker.clients.producers.size, 5);

    const fine = await other.invoke(
      h.addr,
      createRequest(RequestCode.HEART_BEAT, {}, heartbeatBody('well-behaved', 'cg-ok', 'Existing')),
    );
    assert.equal(fine.code, ResponseCode.SUCCESS, fine.remark);
    // Unregistering frees a slot on the flooding connection.
    const unreg = await call(h, RequestCode.UNREGISTER_CLIENT, { clientID: 'flooder', producerGroup: 'p0' });
    assert.equal(unreg.code, ResponseCode.SUCCESS);
    assert.equal((await call(h, RequestCode.HEART_BEAT, {}, producers(['p5']))).code, ResponseCode.SUCCESS);
  } finally {
    await other.close();
    await h.close();
  }
});
