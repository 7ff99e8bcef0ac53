/**
 * Subscription versions on PULL_MESSAGE without its own subscription (the Java push consumer after a heartbeat),
 * as RocketMQ's PullMessageProcessor answers them: SUBSCRIPTION_NOT_LATEST (25) when the heartbeat's version is
 * older than the pull's, FILTER_DATA_NOT_LATEST (28) when the SQL92 filter data is older (the newer expression did
 * not compile), and a changed expression applies once its heartbeat arrives. Then the broker's SQL92 filter
 * bitmap (enableCalcFilterBitMap, file store): a heartbeat registers it, a 1 %-selective pull fills its batch.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Broker } from '../../src/broker/broker.js';
import { decodeRecords } from '../../src/common/record.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { PullSysFlag, RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { call, createTopic, type Endpoint, type Harness, pull, sendV2, startHarness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness({ enablePropertyFilter: true });
  await createTopic(h, 'SV', 1);
  for (let i = 0; i < 20; i++) {
    const r = await sendV2(h, 'SV', `m${i}`, { a: String(i) });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  }
});
after(() => h.close());

function heartbeat(
  ep: Endpoint,
  groupName: string,
  topic: string,
  subString: string,
  subVersion: number,
  type = 'SQL92',
) {
  const sub = { topic, subString, expressionType: type, tagsSet: [], codeSet: [], subVersion };
  const body = {
    clientID: `client-${groupName}`,
    producerDataSet: [],
    consumerDataSet: [
      {
        groupName,
        consumeType: 'CONSUME_PASSIVELY',
        messageModel: 'CLUSTERING',
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
        subscriptionDataSet: [sub],
        unitMode: false,
      },
    ],
  };
  return call(ep, RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(body)));
}

const bodiesOf = (body: Buffer | undefined) =>
  body === undefined ? [] : decodeRecords(body).map((m) => m.body.toString());

test('a pull newer than the heartbeat subscription → SUBSCRIPTION_NOT_LATEST; the same version is served', async () => {
  assert.equal((await heartbeat(h, 'SVG1', 'SV', 'a >= 17', 100)).code, ResponseCode.SUCCESS);
  const newer = await pull(h, 'SV', 0, 0, { consumerGroup: 'SVG1', expressionType: 'SQL92', subVersion: 200 });
  assert.equal(newer.code, ResponseCode.SUBSCRIPTION_NOT_LATEST, newer.remark);
  assert.match(newer.remark ?? '', /not latest/);
  const same = await pull(h, 'SV', 0, 0, { consumerGroup: 'SVG1', expressionType: 'SQL92', subVersion: 100 });
  assert.equal(same.code, ResponseCode.SUCCESS, same.remark);
  assert.deepEqual(bodiesOf(same.body), ['m17', 'm18', 'm19']);
});

test('a changed expression whose heartbeat arrived is applied to the pulls of its version', async () => {
  assert.equal((await heartbeat(h, 'SVG2', 'SV', 'a >= 17', 100)).code, ResponseCode.SUCCESS);
  assert.equal((await heartbeat(h, 'SVG2', 'SV', 'a < 2', 150)).code, ResponseCode.SUCCESS);
  const r = await pull(h, 'SV', 0, 0, { consumerGroup: 'SVG2', expressionType: 'SQL92', subVersion: 150 });
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  assert.deepEqual(bodiesOf(r.body), ['m0', 'm1']);
  // An older heartbeat (another client's, late) does not bring the old expression back.
  assert.equal((await heartbeat(h, 'SVG2', 'SV', 'a >= 17', 120)).code, ResponseCode.SUCCESS);
  const again = await pull(h, 'SV', 0, 0, { consumerGroup: 'SVG2', expressionType: 'SQL92', subVersion: 150 });
  assert.deepEqual(bodiesOf(again.body), ['m0', 'm1']);
});

test('a newer expression that does not compile → FILTER_DATA_NOT_LATEST naming the error; older pulls keep the old filter', async () => {
  assert.equal((await heartbeat(h, 'SVG3', 'SV', 'a >= 18', 100)).code, ResponseCode.SUCCESS);
  assert.equal((await heartbeat(h, 'SVG3', 'SV', 'a >=', 300)).code, ResponseCode.SUCCESS);
  const newer = await pull(h, 'SV', 0, 0, { consumerGroup: 'SVG3', expressionType: 'SQL92', subVersion: 300 });
  assert.equal(newer.code, ResponseCode.FILTER_DATA_NOT_LATEST, newer.remark);
  assert.match(newer.remark ?? '', /filter data not latest.*version 100.*column/);
  const older = await pull(h, 'SV', 0, 0, { consumerGroup: 'SVG3', expressionType: 'SQL92', subVersion: 100 });
  assert.equal(older.code, ResponseCode.SUCCESS, older.remark);
  assert.deepEqual(bodiesOf(older.body), ['m18', 'm19']);
});

test('a malformed subVersion is refused naming the field', async () => {
  const r = await pull(h, 'SV', 0, 0, { consumerGroup: 'SVG1', expressionType: 'SQL92', subVersion: 'soon' });
  assert.notEqual(r.code, ResponseCode.SUCCESS);
  assert.match(r.remark ?? '', /subVersion/);
});

test('a TAG heartbeat older than the pull → SUBSCRIPTION_NOT_LATEST too; a pull with its own subscription is not compared', async () => {
  assert.equal((await heartbeat(h, 'SVG4', 'SV', '*', 100, 'TAG')).code, ResponseCode.SUCCESS);
  const r = await pull(h, 'SV', 0, 0, { consumerGroup: 'SVG4', subVersion: 200 });
  assert.equal(r.code, ResponseCode.SUBSCRIPTION_NOT_LATEST, r.remark);
  const own = await pull(h, 'SV', 0, 0, {
    consumerGroup: 'SVG4',
    sysFlag: PullSysFlag.subscription,
    subscription: 'a = 3',
    expressionType: 'SQL92',
    subVersion: 500,
  });
  assert.equal(own.code, ResponseCode.SUCCESS, own.remark);
  assert.deepEqual(bodiesOf(own.body), ['m3']);
});

test('broker with enableCalcFilterBitMap: a heartbeat registers the bitmap; a 1 %-selective pull fills its batch', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-bitmap-broker-'));
  const broker = new Broker({
    listenPort: 0,
    listenHost: '127.0.0.1',
    namesrvAddr: '',
    storePathRootDir: dir,
    enablePropertyFilter: true,
    enableCalcFilterBitMap: true,
  });
  await broker.start();
  const ep: Endpoint = { client: new RemotingClient(), addr: `127.0.0.1:${broker.port}` };
  try {
    await createTopic(ep, 'BM', 1);
    assert.equal((await heartbeat(ep, 'BMG', 'BM', 'bucket = 7', 1)).code, ResponseCode.SUCCESS);
    const total = 3400;
    for (let i = 0; i < total; i += 100) {
      const sent = await Promise.all(
        Array.from({ length: 100 }, (_, k) => sendV2(ep, 'BM', `m${i + k}`, { bucket: String((i + k) % 100) })),
      );
      for (const s of sent) assert.equal(s.code, ResponseCode.SUCCESS, s.remark);
    }
    const expected = Array.from({ length: 32 }, (_, k) => `m${k * 100 + 7}`);
    const r = await pull(ep, 'BM', 0, 0, { consumerGroup: 'BMG', expressionType: 'SQL92', subVersion: 1 });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    assert.deepEqual(bodiesOf(r.body), expected);
    // The same expression in the pull's own subscription uses the group's bits too.
    const own = await pull(ep, 'BM', 0, 0, {
      consumerGroup: 'BMG',
      sysFlag: PullSysFlag.subscription,
      subscription: 'bucket = 7',
      expressionType: 'SQL92',
    });
    assert.deepEqual(bodiesOf(own.body), expected);
    // Another expression has no bits: judged record by record, a pull looks at 2,000 entries.
    const other = await pull(ep, 'BM', 0, 0, {
      consumerGroup: 'BMG',
      sysFlag: PullSysFlag.subscription,
      subscription: 'bucket = 7 AND bucket IS NOT NULL',
      expressionType: 'SQL92',
    });
    assert.deepEqual(bodiesOf(other.body), expected.slice(0, 20));
  } finally {
    await ep.client.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});
