/**
 * Pops of one queue in flight at once (pop-cursors.ts): each reads where the previous one stopped while its check
 * point is written; the consume offset follows only stored check points, and a refused check-point write fails the
 * pops read after it, whose messages are read again — nothing lost, nothing handed out twice.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { brokerConfigOf } from '../../../src/broker/config.js';
import { TopicConfigManager, topicConfigOf } from '../../../src/broker/metadata/topic-config.js';
import { PopCursors } from '../../../src/broker/pop/pop-cursors.js';
import type { PopRequest } from '../../../src/broker/pop/types.js';
import { reviveLogTopicOf } from '../../../src/common/topics.js';
import { ResponseCode } from '../../../src/remoting/codes.js';
import { createMessageStore, type MessageStore, PutStatus } from '../../../src/store/index.js';
import type { MessageInput, PutResult } from '../../../src/store/types.js';
import { msg } from '../../store/helpers.js';
import { popServiceOf, savesSettled } from './pop-service-of.js';

/** A write the test settles by hand. */
function gate() {
  let settle: (ok: boolean) => void = () => {};
  const done = new Promise<boolean>((r) => {
    settle = r;
  });
  return { done, settle };
}

test('PopCursors: writes start at once, the offset moves after each pop whose writes so far were stored, a failure fails what follows', async () => {
  const c = new PopCursors();
  const committed: bigint[] = [];
  const undone: number[] = [];
  const writes = [gate(), gate(), gate()];
  const started: number[] = [];
  const outcomes = [0, 1, 2].map((i) =>
    c.chain(
      'k',
      c.mark('k'),
      BigInt(i * 10),
      BigInt(i * 10 + 10),
      () => {
        started.push(i);
        return (writes[i] as ReturnType<typeof gate>).done;
      },
      () => committed.push(BigInt(i * 10 + 10)),
      () => undone.push(i),
    ),
  );
  assert.equal(c.nextOf('k'), 30n);
  assert.deepEqual(started, [0, 1, 2], 'the check points of pops in flight are written together');
  // The third is stored before the first two: it waits for them.
  writes[2]?.settle(true);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(committed, []);
  writes[0]?.settle(true);
  await outcomes[0];
  assert.deepEqual(committed, [10n]);
  writes[1]?.settle(false);
  assert.deepEqual(await Promise.all(outcomes), [true, false, false]);
  assert.deepEqual(undone, [2], 'the third was stored though the second was not: the caller undoes it');
  assert.deepEqual(committed, [10n]);
  assert.equal(c.nextOf('k'), undefined, 'nothing in flight: read from the committed offset (10) again');
  assert.equal(c.size, 0);
});

test('PopCursors: a pop that read before a failure and chains after it is refused, and the cursor stays rewound', async () => {
  const c = new PopCursors();
  const committed: bigint[] = [];
  const w = gate();
  const first = c.chain(
    'k',
    c.mark('k'),
    0n,
    3n,
    () => w.done,
    () => committed.push(3n),
  );
  const secondMark = c.mark('k');
  assert.equal(secondMark.next, 3n);
  w.settle(false);
  assert.equal(await first, false);
  assert.equal(c.nextOf('k'), undefined, 'nothing in flight any more');
  let wrote = false;
  const second = c.chain(
    'k',
    secondMark,
    3n,
    6n,
    async () => {
      wrote = true;
      return true;
    },
    () => committed.push(6n),
  );
  assert.equal(await second, false);
  assert.equal(wrote, false);
  assert.deepEqual(committed, []);
  assert.equal(c.nextOf('k'), undefined);
});

test('PopCursors: a reset drops the cursor; writes chained before it move no offset', async () => {
  const c = new PopCursors();
  const committed: bigint[] = [];
  const w = gate();
  const stored = c.chain(
    'k',
    c.mark('k'),
    0n,
    5n,
    () => w.done,
    () => committed.push(5n),
  );
  c.reset('k');
  assert.equal(c.nextOf('k'), undefined);
  w.settle(true);
  assert.equal(await stored, true);
  assert.deepEqual(committed, []);
  let moved = false;
  c.advance('k', c.mark('k'), 9n, () => {
    moved = true;
  });
  assert.ok(moved, 'with nothing in flight the offset moves at once');
});

test('pops of one queue at once, the second check point refused: every message delivered once, none lost', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-pop-cursors-'));
  const store = createMessageStore({ storePathRootDir: dir }, { kind: 'memory' });
  await store.start();
  const config = brokerConfigOf({ storePathRootDir: dir, reviveQueueNum: 1 });
  const topics = new TopicConfigManager(config);
  topics.upsert(topicConfigOf('C1', 1));
  let revivePuts = 0;
  // The second check-point record is refused, as a full or failing disk refuses a put.
  const failing: MessageStore = new Proxy(store, {
    get(target, prop) {
      if (prop === 'putMessage') {
        return async (m: MessageInput): Promise<PutResult> => {
          if (m.topic === reviveLogTopicOf(config.brokerClusterName) && ++revivePuts === 2) {
            return {
              status: PutStatus.SERVICE_NOT_AVAILABLE,
              remark: 'refused by the test',
              wroteOffset: -1n,
              wroteBytes: 0,
              queueOffset: -1n,
            } as PutResult;
          }
          return target.putMessage(m);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const pop = popServiceOf(config, failing, topics, dir, 'test.pop-cursors');
  await pop.start();
  try {
    const total = 20;
    for (let i = 0; i < total; i++) {
      const r = await store.putMessage(msg('C1', 0, `m${i}`));
      assert.equal(r.status, PutStatus.PUT_OK);
    }
    const req: PopRequest = {
      group: 'pc',
      topic: 'C1',
      queueId: 0,
      maxMessages: 3,
      invisibleTimeMs: 60_000,
      pollTimeMs: 0,
      initMode: 'min',
      filter: { type: 'TAG', expression: '*' },
      fifo: false,
    };
    const got: string[] = [];
    let refusedPops = 0;
    const take = (r: Awaited<ReturnType<typeof pop.pop>>) => {
      if (r.status === 'found') for (const m of r.messages) got.push(m.msg.body.toString());
      else if (r.status === 'refused') {
        assert.equal(r.code, ResponseCode.SYSTEM_ERROR);
        refusedPops++;
      }
    };
    // Four pops at once on one queue: the second's check point is refused.
    for (const r of await Promise.all([pop.pop(req), pop.pop(req), pop.pop(req), pop.pop(req)])) take(r);
    assert.ok(refusedPops >= 1, 'the pop whose check point was refused fails');
    for (let i = 0; i < 20; i++) {
      const r = await pop.pop(req);
      if (r.status === 'none') break;
      take(r);
    }
    assert.deepEqual(
      [...got].sort(),
      Array.from({ length: total }, (_, i) => `m${i}`).sort(),
      'each message handed out exactly once',
    );
    assert.equal(pop.stats().popInFlight, total, 'every handed-out message has a stored check point');
    // A check point stored after the refused one (written at once with it) was acked: read back after a restart,
    // the log holds exactly the handed-out messages as unacked.
    const restarted = popServiceOf(config, store, topics, dir, 'test.pop-cursors');
    await restarted.start();
    assert.equal(restarted.stats().popInFlight, total, 'no check point of a refused pop comes back');
    restarted.stop();
  } finally {
    pop.stop();
    await store.shutdown();
    await savesSettled(pop, topics);
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }
});
