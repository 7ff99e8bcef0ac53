/**
 * Hostile clients against one broker, in rounds, with a well-behaved client sending and pulling between them:
 * frame-level garbage (closes that connection only), unknown codes, garbage in every header field every request
 * code reads (as strings and as JSON values of the wrong type), garbage bodies, absurd pull offsets, bad names,
 * partial frames announcing the largest length, thousands of connections, new-group and new-topic floods.
 * Every malformed request is answered with a remark, no processor fails with an untyped error, and the test
 * process (broker and all clients) stays under rssBytesMax throughout.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { decodeRecords } from '../../src/common/record.js';
import { SystemTopic } from '../../src/common/topics.js';
import { checkGroupName, checkTopicName } from '../../src/common/validate.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest, type RemotingCommand, SerializeType } from '../../src/remoting/command.js';
import { call, createTopic, type Harness, pull, sendV2, startHarness } from '../broker/helpers.js';
import { captureLogs, jsonFrame, rawPeer } from '../remoting/helpers.js';
import { discoverHeaderFields, garbageValues, hostileGroup, hostileTopic, wrongJsonTypes } from './hostile-fields.js';

/** The bound on the test process's RSS (broker, hostile clients and test runner together). */
const rssBytesMax = 256 * 1024 * 1024;
const connectionsWanted = 2000;
const floodCount = 300;
const goodTopic = 'GoodTopic';
const goodGroup = 'good_cg';

/** The well-behaved client: one send and the pull that returns it, both must succeed. */
async function served(h: Harness, round: string): Promise<void> {
  const body = `good ${round}`;
  const sent = await sendV2(h, goodTopic, body);
  assert.equal(sent.code, ResponseCode.SUCCESS, `good send after ${round}: ${sent.remark}`);
  const offset = BigInt(sent.extFields?.['queueOffset'] ?? '-1');
  const got = await pull(h, goodTopic, 0, offset, { consumerGroup: goodGroup, suspendTimeoutMillis: 0 });
  assert.equal(got.code, ResponseCode.SUCCESS, `good pull after ${round}: ${got.remark}`);
  assert.equal(decodeRecords(got.body!)[0]?.body.toString(), body, `good pull after ${round}`);
}

function rssSampler(): { maxBytes(): number; stop(): void } {
  let max = process.memoryUsage.rss();
  const timer = setInterval(() => {
    max = Math.max(max, process.memoryUsage.rss());
  }, 50);
  return { maxBytes: () => Math.max(max, process.memoryUsage.rss()), stop: () => clearInterval(timer) };
}

/** Connections this process may open: two descriptors each (client and broker side), 400 kept in reserve. */
function connectionBudget(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = Number(line?.split(/\s+/)[3]);
  return Number.isFinite(soft) ? Math.max(0, Math.min(connectionsWanted, Math.floor((soft - 400) / 2))) : 500;
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves true when the broker closes the socket within `ms`. */
function closedWithin(s: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function hexFrame(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

/** Frame-level garbage: no header to answer, so the broker closes the connection. */
const badFrames: ReadonlyArray<[string, Buffer]> = [
  ['length 0', hexFrame('00000000')],
  ['length 3', hexFrame('00000003')],
  ['length 16 MiB + 1', hexFrame('01000001')],
  ['length 2^31', hexFrame('80000000')],
  ['length 2^32 - 1', hexFrame('ffffffff')],
  ['header longer than the frame', hexFrame('0000000400ffffff')],
  ['header over 64 KiB', hexFrame('0000000800010001 00000000')],
  ['serialize type 2', hexFrame('00000008 02000000 00000000')],
  ['JSON header that does not parse', rawJson('{not')],
  ['JSON header an array', rawJson('[1,2]')],
  ['JSON header without code', rawJson('{"opaque":1}')],
  [
    'JSON header nesting 30,000 levels',
    rawJson(`{"code":10,"extFields":{"a":${'['.repeat(30000)}${']'.repeat(30000)}}}`),
  ],
  ['binary header truncated', hexFrame('00000008 01000004 000a0000')],
  ['binary header remark length negative', hexFrame('00000015 01000011 000a0000 01000000 00000000 00ffffffff')],
];

function rawJson(text: string): Buffer {
  const h = Buffer.from(text);
  const out = Buffer.alloc(8 + h.length);
  out.writeUInt32BE(4 + h.length, 0);
  out.writeUInt32BE(h.length, 4);
  h.copy(out, 8);
  return out;
}

/** A response that is a success, or names what was wrong. */
function explained(resp: RemotingCommand): boolean {
  return resp.code === ResponseCode.SUCCESS || (resp.remark ?? '').length > 0;
}

test('hostile clients do not stop a well-behaved one, and every bad request is answered', {
  timeout: 180_000,
}, async (t) => {
  const logs = captureLogs();
  const fields = await discoverHeaderFields();
  const fieldsOf = (code: number) => fields.find((f) => f.code === code)?.read ?? [];
  // The discovery measures what decoders read; a few known fields show it worked.
  assert.ok(fieldsOf(RequestCode.PULL_MESSAGE).includes('queueOffset'));
  assert.ok(fieldsOf(RequestCode.SEND_MESSAGE_V2).includes('b'));
  assert.ok(fieldsOf(RequestCode.CONSUMER_SEND_MSG_BACK).includes('offset'));
  const h = await startHarness();
  const rss = rssSampler();
  const hostile = new RemotingClient({ pendingRequestsMax: 4096 });
  const held: Socket[] = [];
  try {
    await createTopic(h, goodTopic, 1);
    await createTopic(h, hostileTopic);
    await served(h, 'start');

    await t.test('frame-level garbage closes that connection only', async () => {
      for (const [what, bytes] of badFrames) {
        const s = await openSocket(h.broker.port);
        s.on('error', () => {});
        s.write(bytes);
        assert.ok(await closedWithin(s, 3000), `broker closed the connection on: ${what}`);
      }
      // A truncated frame followed by FIN.
      const s = await openSocket(h.broker.port);
      s.end(hexFrame('00000064 0000001e 7b22636f6465'));
      assert.ok(await closedWithin(s, 3000), 'truncated frame then FIN');
      await served(h, 'frame garbage');
    });

    await t.test('partial frames announcing the largest length allocate only what arrived', async () => {
      // 64 connections × a declared 16 MiB: a decoder allocating by the declared length would hold 1 GiB.
      for (let i = 0; i < 64; i++) {
        const s = await openSocket(h.broker.port);
        s.on('error', () => {});
        s.write(Buffer.concat([hexFrame('01000000 00000100'), Buffer.alloc(64 * 1024, 0x20)]));
        held.push(s);
      }
      await served(h, 'partial frames');
    });

    await t.test('unknown request codes get REQUEST_CODE_NOT_SUPPORTED with a remark', async () => {
      for (const code of [0, -1, 9999, 32767, RequestCode.GET_ROUTEINFO_BY_TOPIC, RequestCode.PUT_KV_CONFIG]) {
        const resp = await hostile.invoke(h.addr, createRequest(code, { topic: goodTopic }), 5000);
        assert.equal(resp.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, `code ${code}`);
        assert.ok(resp.remark, `code ${code} has a remark`);
      }
      await served(h, 'unknown codes');
    });

    await t.test('garbage in every header field of every request code', async () => {
      const unexplained: string[] = [];
      let sent = 0;
      for (const { code, baseline, read } of fields) {
        const reqs: Array<[string, RemotingCommand]> = [];
        for (const field of read) {
          const missing = { ...baseline };
          delete missing[field];
          reqs.push([`${code} ${field} missing`, createRequest(code, missing)]);
          garbageValues.forEach((g, i) => {
            const req = createRequest(code, { ...baseline, [field]: g });
            if (i % 2 === 1) req.serializeType = SerializeType.rocketmq;
            reqs.push([`${code} ${field}=${JSON.stringify(g.slice(0, 24))}`, req]);
          });
        }
        const answers = await Promise.all(reqs.map(([, req]) => hostile.invoke(h.addr, req, 10_000)));
        answers.forEach((resp, i) => {
          if (!explained(resp)) unexplained.push(`${reqs[i]![0]} → ${resp.code} without a remark`);
        });
        sent += reqs.length;
      }
      t.diagnostic(`${sent} requests over ${fields.length} codes`);
      for (const f of fields) t.diagnostic(`code ${f.code} reads ${f.read.join(' ') || '(no header fields)'}`);
      assert.deepEqual(unexplained, []);
      await served(h, 'header garbage');
    });

    await t.test('header fields as JSON values of the wrong type', async () => {
      const peer = await rawPeer(h.broker.port);
      let opaque = 1;
      const unexplained: string[] = [];
      for (const { code, baseline, read } of fields) {
        for (const field of read) {
          for (const value of wrongJsonTypes) {
            const header = { code, language: 'JAVA', version: 1, opaque: opaque++, flag: 0 };
            peer.socket.write(jsonFrame({ ...header, extFields: { ...baseline, [field]: value } }));
            const resp = await peer.next();
            assert.equal(resp.opaque, header.opaque);
            if (!explained(resp)) unexplained.push(`${code} ${field}=${JSON.stringify(value)} → ${resp.code}`);
          }
        }
      }
      peer.socket.destroy();
      assert.deepEqual(unexplained, []);
      await served(h, 'wrong JSON types');
    });

    await t.test('garbage bodies for every request code', async () => {
      const bodies = [
        Buffer.from('{'),
        Buffer.from('null'),
        Buffer.from('[]'),
        Buffer.from('{"clientID":1,"consumerDataSet":{"a":1},"producerDataSet":"x"}'),
        Buffer.from('{"clientID":"c","consumerDataSet":[null],"producerDataSet":[null]}'),
        Buffer.from('{"clientID":"c","consumerDataSet":[{"groupName":{"toString":1}}]}'),
        Buffer.from(
          '{"clientID":"c","consumerDataSet":[{"groupName":"g","subscriptionDataSet":[{"topic":"t","tagsSet":[{"toString":1}]}]}]}',
        ),
        Buffer.from(`${'['.repeat(20000)}${']'.repeat(20000)}`),
        Buffer.from('00000010ffffffff', 'hex'),
        Buffer.alloc(4096, 0xff),
      ];
      for (const { code, baseline } of fields) {
        for (const body of bodies) {
          const resp = await hostile.invoke(h.addr, createRequest(code, baseline, body), 10_000);
          assert.ok(explained(resp), `${code} with a garbage body → ${resp.code} without a remark`);
        }
      }
      await served(h, 'garbage bodies');
    });

    await t.test('absurd pull offsets, queues and counts', async () => {
      await createTopic(h, hostileTopic); // the header sweep sent DELETE_TOPIC_IN_BROKER for it
      for (let i = 0; i < 5; i++) assert.equal((await sendV2(h, hostileTopic, `m${i}`)).code, 0);
      const absurd: Array<Record<string, string>> = [
        ...['-1', '-9223372036854775808', '6', '4611686018427387904', '9223372036854775807'].map((queueOffset) => ({
          queueOffset,
        })),
        ...['-1', '4', '2147483647'].map((queueId) => ({ queueId })),
        ...['-1', '0', '2147483647'].map((maxMsgNums) => ({ maxMsgNums })),
        { queueOffset: '9223372036854775808' },
        { sysFlag: '-1', suspendTimeoutMillis: '1' },
      ];
      for (const extra of absurd) {
        const resp = await pull(h, hostileTopic, 0, 0, {
          consumerGroup: hostileGroup,
          suspendTimeoutMillis: 0,
          ...extra,
        });
        assert.ok(explained(resp) || resp.code === ResponseCode.SUCCESS, JSON.stringify(extra));
        const next = resp.extFields?.['nextBeginOffset'];
        if (next !== undefined) {
          const max = BigInt(resp.extFields?.['maxOffset'] ?? '0');
          assert.ok(BigInt(next) >= 0n && BigInt(next) <= max, `${JSON.stringify(extra)}: nextBeginOffset ${next}`);
        }
      }
      await served(h, 'absurd offsets');
    });

    await t.test('bad topic names are refused with a remark; bad group names are refused, never created', async () => {
      const badTopics = ['', 'bad topic', 'a'.repeat(128), 'é', 'x\u0000y', 'a/b', SystemTopic.schedule];
      for (const topic of badTopics) {
        const resp = await sendV2(h, topic, 'x');
        assert.notEqual(resp.code, ResponseCode.SUCCESS, `send to ${JSON.stringify(topic.slice(0, 20))}`);
        assert.ok(resp.remark, `send to ${JSON.stringify(topic.slice(0, 20))} has a remark`);
        if (checkTopicName(topic) !== undefined) {
          const created = await call(h, RequestCode.UPDATE_AND_CREATE_TOPIC, {
            topic,
            readQueueNums: 1,
            writeQueueNums: 1,
            perm: 6,
          });
          assert.notEqual(created.code, ResponseCode.SUCCESS, `create ${JSON.stringify(topic.slice(0, 20))}`);
        }
      }
      // A pull never auto-creates (or persists) a group under a name a client could not have been given.
      for (const group of ['', 'bad group', 'g'.repeat(256), 'é']) {
        assert.ok(checkGroupName(group) !== undefined);
        const resp = await pull(h, hostileTopic, 0, 0, { consumerGroup: group, suspendTimeoutMillis: 0 });
        assert.equal(resp.code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `pull as ${JSON.stringify(group)}`);
        assert.match(resp.remark ?? '', /is not created: group name/);
      }
      await served(h, 'bad names');
    });

    await t.test('oversized properties, body and queue counts are refused with a remark', async () => {
      const props = await sendV2(h, hostileTopic, 'x', { p: 'x'.repeat(40_000) });
      assert.equal(props.code, ResponseCode.MESSAGE_ILLEGAL);
      assert.match(props.remark ?? '', /properties are \d+ bytes/);
      const body = await sendV2(h, hostileTopic, Buffer.alloc(4 * 1024 * 1024 + 1));
      assert.equal(body.code, ResponseCode.MESSAGE_ILLEGAL);
      assert.match(body.remark ?? '', /body is \d+ bytes/);
      const queues = await call(h, RequestCode.UPDATE_AND_CREATE_TOPIC, {
        topic: 'TooManyQueues',
        readQueueNums: 2147483647,
        writeQueueNums: 2147483647,
        perm: 6,
      });
      assert.notEqual(queues.code, ResponseCode.SUCCESS);
      assert.match(queues.remark ?? '', /outside/);
      await served(h, 'oversized');
    });

    await t.test('thousands of connections', async () => {
      const n = connectionBudget();
      const conns: Socket[] = [];
      for (let i = 0; i < n; i += 200) {
        conns.push(
          ...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => openSocket(h.broker.port)))),
        );
      }
      const ask = rawJson(JSON.stringify({ code: 9999, language: 'JAVA', version: 1, opaque: 1, flag: 0 }));
      // Each connection is answered, or refused by a connection cap (closed): never left hanging.
      const outcomes = await Promise.all(
        conns.map(
          (s) =>
            new Promise<'answered' | 'closed'>((resolve) => {
              s.on('error', () => {});
              // A connection cap may have closed it while the others were still opening.
              if (s.destroyed || s.readyState === 'closed') {
                resolve('closed');
                return;
              }
              s.once('data', () => resolve('answered'));
              s.once('close', () => resolve('closed'));
              s.write(ask);
            }),
        ),
      );
      await served(h, `${n} connections`);
      const answered = outcomes.filter((o) => o === 'answered').length;
      t.diagnostic(`${n} connections: ${answered} answered, ${n - answered} closed`);
      assert.ok(answered > 0);
      await Promise.all(
        conns.map((s) => (s.destroyed ? undefined : new Promise((resolve) => s.destroy().once('close', resolve)))),
      );
      await served(h, 'connections closed');
    });

    await t.test(`${floodCount} new groups and ${floodCount} new topics`, async () => {
      for (let i = 0; i < floodCount; i += 50) {
        const pulls = Array.from({ length: 50 }, (_, j) =>
          pull(h, hostileTopic, 0, 0, { consumerGroup: `flood_g_${i + j}`, suspendTimeoutMillis: 0 }),
        );
        for (const resp of await Promise.all(pulls)) assert.ok(explained(resp), `flood pull → ${resp.code}`);
        await served(h, `${i + 50} new groups`);
      }
      for (let i = 0; i < floodCount; i += 50) {
        const sends = Array.from({ length: 50 }, (_, j) => sendV2(h, `flood_t_${i + j}`, 'x'));
        for (const resp of await Promise.all(sends)) assert.ok(explained(resp), `flood send → ${resp.code}`);
        await served(h, `${i + 50} new topics`);
      }
    });

    assert.ok(
      logs.some((l) => l.includes('protocol error; closing connection')),
      'the broker log is captured',
    );
    const failed = logs.filter((l) => l.includes('processor failed'));
    assert.deepEqual(failed, [], 'no processor failed with an untyped error');
    t.diagnostic(`max RSS ${(rss.maxBytes() / 2 ** 20).toFixed(0)} MiB (bound ${rssBytesMax / 2 ** 20} MiB)`);
    assert.ok(rss.maxBytes() <= rssBytesMax, `RSS ${rss.maxBytes()} over ${rssBytesMax}`);
  } finally {
    rss.stop();
    for (const s of held) s.destroy();
    await hostile.close();
    await h.close();
  }
});
