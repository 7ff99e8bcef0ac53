/**
 * Interop with Apache's RocketMQ 4.9.8 Java client (the one most RocketMQ users run) against `tsrocket start` as
 * its own process, plus our Producer and PushConsumer on the other side. The scenarios (java/Scenarios.java) run in
 * one JVM per header encoding (JSON, ROCKETMQ); each test asserts on one scenario's printed result. Where this
 * client and ali-ons disagree about the wire, this client is the reference.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Admin } from '../../src/client/admin/admin.js';
import { type JavaRun, type JavaRunOptions, runJavaScenarios, type ScenarioResult } from './java-client.js';
import { consumeWithOurs, produceWithOurs, type Seen } from './our-client.js';
import { type RunningSystem, startSystem } from './system.js';

/** Both header encodings of the client, each in its own JVM on its own topics and groups, side by side. */
const wires: Array<Omit<JavaRunOptions, 'scenarios'>> = [
  { serializeType: 'JSON', suffix: '' },
  { serializeType: 'ROCKETMQ', suffix: 'Bin' },
];

let system: RunningSystem | undefined;
const javaRuns = new Map<string, JavaRun>();
/** What our Producer sent to OursToJava<suffix>, per run. */
const oursSent = new Map<string, Seen[]>();

before(async () => {
  // Short delay levels (retries wait level 3 + reconsumeTimes) keep the retry scenario quick.
  system = await startSystem(`messageDelayLevel=${'100ms '.repeat(18).trim()}\n`);
  const { nameSrv, dataDir } = system;
  // Our Producer sends first; the JVM's consume-ours scenario reads it.
  for (const w of wires) oursSent.set(w.suffix, await produceWithOurs(nameSrv, `OursToJava${w.suffix}`));
  const runs = await Promise.all(
    wires.map((w) =>
      runJavaScenarios(nameSrv, dataDir, {
        ...w,
        scenarios: [],
        properties: { 'scenarios.oursCount': String(oursSent.get(w.suffix)?.length) },
      }),
    ),
  );
  for (const [i, w] of wires.entries()) javaRuns.set(w.suffix, runs[i] as JavaRun);
});

after(() => system?.stop());

function scenario(suffix: string, name: string): ScenarioResult {
  const javaRun = javaRuns.get(suffix) as JavaRun;
  const r = javaRun.results.get(name);
  assert.ok(r !== undefined, `scenario ${name} printed no result; JVM log:\n${javaRun.stderr.slice(-4000)}`);
  assert.equal(r['error'], undefined, `scenario ${name} failed`);
  return r;
}

/** Seen records, by msgId, for an order-free comparison. */
const byMsgId = (msgs: Seen[]) => [...msgs].sort((a, b) => a.msgId.localeCompare(b.msgId));
const seenOf = (m: ScenarioResult): Seen => ({
  msgId: m['msgId'],
  tags: m['tags'] ?? undefined,
  keys: m['keys'] ?? '',
  bodySha256: m['bodySha256'],
});

const ids = (msgs: ScenarioResult[]) => msgs.map((m) => m['msgId'] as string).sort();

/** An offsetMsgId is store IPv4 + port + commit log offset, as 32 hex digits. */
function commitLogOffsetOf(offsetMsgId: string): number {
  assert.match(offsetMsgId, /^[0-9A-F]{32}$/);
  return Number.parseInt(offsetMsgId.slice(16), 16);
}

/** The messages of `sent` (by UNIQ_KEY) were received once each, with their bodies and stored where the ack said. */
function assertReceivedOnce(sent: ScenarioResult[], received: ScenarioResult[]): void {
  const byId = new Map(received.map((m) => [m['msgId'] as string, m]));
  assert.equal(byId.size, received.length, 'no message received twice');
  for (const s of sent) {
    const r = byId.get(s['msgId']);
    assert.ok(r !== undefined, `${s['body']} (${s['msgId']}) was not received`);
    assert.equal(r['body'], s['body']);
    assert.equal(r['keys'], s['keys']);
    assert.equal(r['tags'], s['tags']);
    if (s['offsetMsgId'] !== undefined) {
      assert.equal(r['commitLogOffset'], commitLogOffsetOf(s['offsetMsgId']), 'the ack names the stored record');
      assert.equal(r['queueId'], s['queueId']);
      assert.equal(r['queueOffset'], s['queueOffset']);
    }
  }
}

for (const { serializeType, suffix } of wires) {
  test(`Java (${serializeType}) sync send: SEND_OK with msgId, offsetMsgId and queue offset; consumed once`, () => {
    const r = scenario(suffix, 'sends');
    assert.equal(r['sync'].length, 5);
    for (const s of r['sync']) {
      assert.equal(s['status'], 'SEND_OK');
      assert.equal(s['resultMsgId'], s['msgId'], 'the SendResult msgId is the UNIQ_KEY');
    }
    assertReceivedOnce(r['sync'], r['received']);
  });

  test(`Java (${serializeType}) async send: every callback succeeds; consumed once`, () => {
    const r = scenario(suffix, 'sends');
    assert.equal(r['async'].length, 5);
    for (const s of r['async']) assert.equal(s['status'], 'SEND_OK', JSON.stringify(s));
    assertReceivedOnce(r['async'], r['received']);
  });

  test(`Java (${serializeType}) oneway send: stored and consumed once`, () => {
    const r = scenario(suffix, 'sends');
    assertReceivedOnce(r['oneway'], r['received']);
  });

  test(`Java (${serializeType}) batch send: one SEND_OK naming every item; items consumed once`, () => {
    const r = scenario(suffix, 'sends');
    const items = r['batch'].slice(0, 5) as ScenarioResult[];
    const ack = r['batch'][5] as ScenarioResult;
    assert.equal(ack['status'], 'SEND_OK');
    assert.equal(ack['batchMsgId'], items.map((m) => m['msgId']).join(','));
    const offsets = (ack['batchOffsetMsgId'] as string).split(',').map(commitLogOffsetOf);
    assertReceivedOnce(items, r['received']);
    const byId = new Map((r['received'] as ScenarioResult[]).map((m) => [m['msgId'], m]));
    assert.deepEqual(
      items.map((m) => byId.get(m['msgId'])?.['commitLogOffset']),
      offsets,
      'the batch ack lists the stored records in order',
    );
    assert.equal(r['received'].length, 20, 'nothing but the 20 sent messages arrived');
  });

  test(`Java (${serializeType}) tag filter: a TagA subscription receives TagA only`, () => {
    const r = scenario(suffix, 'tag-filter');
    const tagA = (r['sent'] as ScenarioResult[]).filter((m) => m['tags'] === 'TagA');
    assert.equal(tagA.length, 5);
    assert.deepEqual(
      (r['received'] as ScenarioResult[]).map((m) => m['tags']),
      ['TagA', 'TagA', 'TagA', 'TagA', 'TagA'],
    );
    assertReceivedOnce(tagA, r['received']);
  });

  test(`Java (${serializeType}) broadcasting: each of two consumers of one group receives every message`, () => {
    const r = scenario(suffix, 'broadcasting');
    assert.equal(r['sent'].length, 6);
    assert.deepEqual(ids(r['consumer0']), ids(r['sent']));
    assert.deepEqual(ids(r['consumer1']), ids(r['sent']));
  });

  test(`Java (${serializeType}) clustering: two consumers of one group split the queues and the messages`, () => {
    const r = scenario(suffix, 'clustering');
    assert.equal(r['arrivedInTime'], true, 'all 12 messages arrived while both consumers ran');
    const [a, b] = r['assigned'] as number[][];
    assert.equal(a?.length, 2, JSON.stringify(r['assigned']));
    assert.deepEqual([...(a ?? []), ...(b ?? [])].sort(), [0, 1, 2, 3]);
    assert.deepEqual(ids([...r['consumer0'], ...r['consumer1']]), ids(r['sent']));
    for (const [i, queues] of [a, b].entries()) {
      for (const m of r[`consumer${i}`] as ScenarioResult[])
        assert.ok(queues?.includes(m['queueId']), JSON.stringify(m));
    }
  });

  test(`Java (${serializeType}) retry: RECONSUME_LATER once → redelivered with reconsumeTimes 1 through CONSUMER_SEND_MSG_BACK`, () => {
    const r = scenario(suffix, 'retry');
    const sent = r['sent'] as ScenarioResult;
    const d = r['deliveries'] as ScenarioResult[];
    assert.equal(d.length, 2, JSON.stringify(d));
    assert.deepEqual(
      d.map((m) => [m['msgId'], m['topic'], m['reconsumeTimes'], m['body']]),
      [
        [sent['msgId'], `JavaRetry${suffix}`, 0, 'retry me'],
        [sent['msgId'], `JavaRetry${suffix}`, 1, 'retry me'],
      ],
    );
    // RocketMQ's broker sets ORIGIN_MESSAGE_ID to the stored record's id (offsetMsgId), not to the header's
    // originMsgId (the Java client sends its UNIQ_KEY there); the client's fallback send would carry the UNIQ_KEY.
    assert.equal(d[1]?.['originMessageId'], sent['offsetMsgId']);
  });

  test(`Java (${serializeType}) lite pull consumer: assign a queue, read it, seek back twice`, () => {
    const r = scenario(suffix, 'lite-pull-seek');
    const sent = r['sent'] as ScenarioResult[];
    assert.deepEqual(
      sent.map((m) => m['queueOffset']),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    const offsetsAndBodies = (msgs: ScenarioResult[]) => msgs.map((m) => [m['queueOffset'], m['body']]);
    assert.deepEqual(
      offsetsAndBodies(r['fromStart']),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => [i, `lite ${i}`]),
    );
    assert.deepEqual(
      offsetsAndBodies(r['fromFive']),
      [5, 6, 7, 8, 9].map((i) => [i, `lite ${i}`]),
    );
    assert.deepEqual(
      offsetsAndBodies(r['fromTwo']).slice(0, 3),
      [2, 3, 4].map((i) => [i, `lite ${i}`]),
    );
  });

  test(`Java (${serializeType}) queries: viewMessage by offsetMsgId and by msgId, queryMessage by key, searchOffset by time`, () => {
    const r = scenario(suffix, 'queries');
    const sent = r['sent'] as ScenarioResult[];
    for (const view of ['byOffsetMsgId', 'byMsgId']) {
      assert.deepEqual(
        (r[view] as ScenarioResult[]).map((m) => [m['msgId'], m['body'], m['keys']]),
        sent.map((m) => [m['msgId'], m['body'], m['keys']]),
        view,
      );
    }
    assert.deepEqual(
      (r['byKey'] as ScenarioResult[]).map((m) => [m['msgId'], m['body']]),
      [[sent[1]?.['msgId'], 'query 1']],
    );
    for (const t of r['byTime'] as ScenarioResult[])
      assert.equal(t['searchOffset'], t['queueOffset'], JSON.stringify(t));
    assert.equal(r['minOffset'], 0);
    assert.equal(r['maxOffset'], 3);
    assert.equal(r['earliestMsgStoreTime'], r['byTime'][0]['storeTimestamp']);
  });

  test(`Java (${serializeType}) compressed body: a 64 KiB body is zlib-compressed by the producer and arrives intact`, () => {
    const r = scenario(suffix, 'compressed');
    const sent = r['sent'] as ScenarioResult;
    const [got, ...more] = r['received'] as ScenarioResult[];
    assert.equal(more.length, 0);
    assert.equal(got?.['sysFlag'] & 1, 1, 'stored with the COMPRESSED flag');
    assert.equal(got?.['bodyBytes'], sent['bodyBytes']);
    assert.equal(got?.['bodySha256'], sent['bodySha256']);
  });

  test(`Java (${serializeType}) push consumers commit their offsets: no lag left behind`, async () => {
    scenario(suffix, 'sends');
    const admin = new Admin({ nameServer: system?.nameSrv });
    try {
      for (const name of ['Sends', 'Tags', 'Retry', 'Compressed']) {
        const group = `Java${name}CG${suffix}`;
        const p = await admin.consumerProgress(group, `Java${name}${suffix}`);
        assert.ok(p.brokerOffsetTotal > 0, group);
        assert.equal(p.lagTotal, 0, `${group}: ${JSON.stringify(p.queues)}`);
      }
    } finally {
      await admin.close();
    }
  });

  test(`Java (${serializeType}) consumer reads what our Producer sent (single, coalesced batch, batch, compressed)`, () => {
    const r = scenario(suffix, 'consume-ours');
    const sent = oursSent.get(suffix) ?? [];
    assert.equal(sent.length, 16);
    assert.deepEqual(byMsgId((r['received'] as ScenarioResult[]).map(seenOf)), byMsgId(sent));
    const compressed = (r['received'] as ScenarioResult[]).filter((m) => (m['sysFlag'] & 1) === 1);
    assert.equal(compressed.length, 1, 'the 64 KiB body was stored zlib-compressed');
  });

  test(`Java (${serializeType}) producer → our PushConsumer: every message, body and id as the Java side saw them`, async () => {
    const sends = scenario(suffix, 'sends');
    const compressed = scenario(suffix, 'compressed');
    const javaSaw = [...(sends['received'] as ScenarioResult[]), ...(compressed['received'] as ScenarioResult[])];
    assert.equal(javaSaw.length, 21);
    const got = await consumeWithOurs(
      system?.nameSrv ?? '',
      `OursFromJava${suffix}`,
      [`JavaSends${suffix}`, `JavaCompressed${suffix}`],
      javaSaw.length,
    );
    assert.deepEqual(byMsgId(got), byMsgId(javaSaw.map(seenOf)));
  });
}
