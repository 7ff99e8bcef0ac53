/**
 * A plain batch tells the store's arrival listeners once per distinct tag code, with the highest offset carrying it
 * (ArrivalListener): held pulls and POP waiters whose filter takes any message of the batch still wake — also when
 * the only match is in the middle — and ones whose filter takes none stay held.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Broker } from '../../src/broker/broker.js';
import { tagsCodeOf } from '../../src/common/hash.js';
import { encodeProperties } from '../../src/common/properties.js';
import { decodeRecords } from '../../src/common/record.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { createMessageStore } from '../../src/store/index.js';
import { createTopic, type Endpoint, pull, sendBatch, sendV2, sleep } from './helpers.js';
import { popRaw } from './pop/pop-client.js';

// The file store (the memory store has no plain-batch path: its batches are told per record).
let dir: string;
let broker: Broker;
const h: Endpoint = { client: new RemotingClient(), addr: '' };
const told: string[] = [];
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-batch-arrival-'));
  const store = createMessageStore({ storePathRootDir: dir, mappedFileSizeCommitLog: 1024 * 1024 });
  broker = new Broker(
    { listenPort: 0, listenHost: '127.0.0.1', namesrvAddr: '', storePathRootDir: dir, longPollingSweepMs: 50 },
    {},
    { store },
  );
  await broker.start();
  h.addr = `127.0.0.1:${broker.port}`;
  await createTopic(h, 'BA', 2);
  await createTopic(h, 'BAPOP', 1);
  store.addArrivalListener((t, q, o, tags) => {
    if (t === 'BA' || t === 'BAPOP') told.push(`${t}/${q}/${o}/${tags}`);
  });
});
after(async () => {
  await h.client.close();
  await broker.close();
  await rm(dir, { recursive: true, force: true });
});

const suspend = 2 | 4; // PullSysFlag suspend + subscription

function sendTagged(topic: string, items: readonly [body: string, tag: string][], queueId: number) {
  const batch = items.map(([b, tag]) => ({
    flag: 0,
    body: Buffer.from(b),
    properties: encodeProperties({ TAGS: tag }),
  }));
  return sendBatch(h, topic, batch, queueId);
}

/** A held pull (the queue is empty at `offset`) and whether it has been answered yet. */
function heldPull(queueId: number, offset: number, subscription: string) {
  const state = { answered: false };
  const answer = pull(
    h,
    'BA',
    queueId,
    offset,
    { sysFlag: suspend, subscription, suspendTimeoutMillis: 20_000 },
    30_000,
  );
  void answer.then(() => {
    state.answered = true;
  });
  return { answer, state };
}

const bodies = (r: { body?: Buffer | undefined }) =>
  decodeRecords(r.body ?? Buffer.alloc(0)).map((m) => m.body.toString());

test('a batch wakes held pulls whose tag filter takes one message in its middle; ones it takes none of stay held', async () => {
  const middle = heldPull(0, 0, 'TagM');
  const either = heldPull(0, 0, 'TagX || TagM');
  const all = heldPull(0, 0, '*');
  const none = heldPull(0, 0, 'TagZ');
  const otherQueue = heldPull(1, 0, '*');
  await sleep(300);
  assert.equal(middle.state.answered || none.state.answered || all.state.answered, false, 'held while empty');
  told.length = 0;
  const sent = await sendTagged(
    'BA',
    [
      ['a0', 'TagA'],
      ['a1', 'TagA'],
      ['m', 'TagM'],
      ['a3', 'TagA'],
      ['a4', 'TagA'],
    ],
    0,
  );
  assert.equal(sent.code, ResponseCode.SUCCESS, sent.remark);
  // The new contract: one call per tag code, at its highest offset, in offset order (the plain path was taken).
  assert.deepEqual(told, [`BA/0/2/${tagsCodeOf('TagM')}`, `BA/0/4/${tagsCodeOf('TagA')}`]);
  const m = await middle.answer;
  assert.equal(m.code, ResponseCode.SUCCESS, m.remark);
  assert.deepEqual(bodies(m), ['m']);
  assert.deepEqual(bodies(await either.answer), ['m']);
  assert.deepEqual(bodies(await all.answer), ['a0', 'a1', 'm', 'a3', 'a4']);
  await sleep(300);
  assert.equal(none.state.answered, false, 'a pull whose filter takes no message of the batch stays held');
  assert.equal(otherQueue.state.answered, false, 'a pull on another queue stays held');
  assert.equal((await sendV2(h, 'BA', 'z', { TAGS: 'TagZ' }, 0)).code, 0);
  assert.deepEqual(bodies(await none.answer), ['z']);
  assert.equal((await sendV2(h, 'BA', 'q1', {}, 1)).code, 0);
  assert.deepEqual(bodies(await otherQueue.answer), ['q1']);
});

test('a POP held on a tag filter receives the one matching message in the middle of a batch', async () => {
  const matching = popRaw(h, 'BAPOP', { expType: 'TAG', exp: 'TagM', pollTime: 15_000n }, 20_000);
  const other = popRaw(h, 'BAPOP', { consumerGroup: 'pg-z', expType: 'TAG', exp: 'TagZ', pollTime: 15_000n }, 20_000);
  let otherAnswered = false;
  void other.then(() => {
    otherAnswered = true;
  });
  await sleep(300);
  const sent = await sendTagged(
    'BAPOP',
    [
      ['p0', 'TagA'],
      ['pm', 'TagM'],
      ['p2', 'TagA'],
    ],
    0,
  );
  assert.equal(sent.code, ResponseCode.SUCCESS, sent.remark);
  const p = await matching;
  assert.equal(p.resp.code, ResponseCode.SUCCESS, p.resp.remark);
  assert.deepEqual(
    p.msgs.map((x) => x.body.toString()),
    ['pm'],
  );
  await sleep(300);
  assert.equal(otherAnswered, false, 'a POP whose filter takes none of the batch stays held');
  assert.equal((await sendV2(h, 'BAPOP', 'pz', { TAGS: 'TagZ' }, 0)).code, 0);
  assert.deepEqual(
    (await other).msgs.map((x) => x.body.toString()),
    ['pz'],
  );
});
