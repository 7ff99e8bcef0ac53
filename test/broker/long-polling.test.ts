import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PullHoldService } from '../../src/broker/long-polling/pull-hold.js';
import { decodeRecords } from '../../src/common/record.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { createTopic, type Harness, pull, sendV2, sleep, startHarness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness({ longPollingSweepMs: 50 });
  await createTopic(h, 'LP', 2);
  await createTopic(h, 'EMPTY', 1);
});
after(() => h.close());

const suspend = 2 | 4; // PullSysFlag suspend + subscription

test('a pull with nothing to return is held and answered when a message arrives', async () => {
  const started = Date.now();
  const pending = pull(h, 'LP', 0, 0, { sysFlag: suspend, subscription: '*', suspendTimeoutMillis: 10_000 }, 15_000);
  let answered = false;
  void pending.then(() => {
    answered = true;
  });
  await sleep(300);
  assert.equal(answered, false, 'the pull must be held while the queue is empty');
  assert.equal((await sendV2(h, 'LP', 'wake', {}, 0)).code, 0);
  const r = await pending;
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  assert.equal(decodeRecords(r.body ?? Buffer.alloc(0))[0]?.body.toString(), 'wake');
  assert.ok(Date.now() - started < 9000, 'woken by the arrival, not by the deadline');
});

test('a held pull is not woken by a message its tag filter rejects, nor by another queue', async () => {
  const pending = pull(h, 'LP', 1, 0, { sysFlag: suspend, subscription: 'TagA', suspendTimeoutMillis: 10_000 }, 15_000);
  let answered = false;
  void pending.then(() => {
    answered = true;
  });
  await sleep(100);
  await sendV2(h, 'LP', 'other-queue', { TAGS: 'TagA' }, 0);
  await sendV2(h, 'LP', 'wrong-tag', { TAGS: 'TagB' }, 1);
  await sleep(300);
  assert.equal(answered, false);
  await sendV2(h, 'LP', 'right', { TAGS: 'TagA' }, 1);
  const r = await pending;
  assert.equal(r.code, 0, r.remark);
  assert.deepEqual(
    decodeRecords(r.body ?? Buffer.alloc(0)).map((m) => m.body.toString()),
    ['right'],
  );
});

test('a held pull answers PULL_NOT_FOUND at its deadline; a pull without suspend answers at once', async () => {
  const t0 = Date.now();
  const r = await pull(h, 'EMPTY', 0, 0, { sysFlag: suspend, subscription: '*', suspendTimeoutMillis: 400 });
  const waited = Date.now() - t0;
  assert.equal(r.code, ResponseCode.PULL_NOT_FOUND);
  assert.ok(waited >= 350, `held ${waited} ms`);
  assert.ok(r.extFields?.['nextBeginOffset'] !== undefined);
  // Without the suspend flag a pull is not held, whatever suspendTimeoutMillis says: held, it would take 20 s (a
  // bound of 350 ms was missed on a busy machine).
  const t1 = Date.now();
  const quick = await pull(h, 'EMPTY', 0, 0, { sysFlag: 4, subscription: '*', suspendTimeoutMillis: 20_000 }, 30_000);
  assert.equal(quick.code, ResponseCode.PULL_NOT_FOUND);
  assert.ok(Date.now() - t1 < 10_000, `answered after ${Date.now() - t1} ms: held`);
});

test('an idle long-polling consumer does not spin: few answers over a second', async () => {
  let answers = 0;
  const end = Date.now() + 1000;
  while (Date.now() < end) {
    const r = await pull(h, 'EMPTY', 0, 0, { sysFlag: suspend, subscription: '*', suspendTimeoutMillis: 300 });
    assert.equal(r.code, ResponseCode.PULL_NOT_FOUND);
    answers++;
  }
  assert.ok(answers <= 5, `${answers} answers in a second`);
});

test('hold service: sweep answers due pulls, drops abandoned ones, arrival wakes only matching offsets', () => {
  const svc = new PullHoldService(1000);
  const woken: string[] = [];
  const mk = (name: string, offset: bigint, deadlineMs: number, abandoned = false) => ({
    topic: 'T',
    queueId: 0,
    offset,
    deadlineMs,
    isAbandoned: () => abandoned,
    wake: (final: boolean) => woken.push(`${name}:${final}`),
  });
  svc.hold(mk('a', 5n, 100));
  svc.hold(mk('b', 9n, 1000));
  svc.hold(mk('c', 1n, 1000, true));
  assert.equal(svc.size(), 3);
  svc.notifyArrival('T', 0, 5, 0n);
  assert.deepEqual(woken, ['a:false']);
  svc.sweep(2000);
  assert.deepEqual(woken, ['a:false', 'b:true']);
  assert.equal(svc.size(), 0);
});
