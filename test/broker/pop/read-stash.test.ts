/**
 * Read-ahead of unfiltered pops (read-stash.ts): one store read serves the next pops of the queue that start where
 * it ended; every message is still handed out once, an offset reset or a pop elsewhere reads the store again.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { brokerConfigOf } from '../../../src/broker/config.js';
import { SubscriptionGroupManager } from '../../../src/broker/metadata/subscription-groups.js';
import { TopicConfigManager, topicConfigOf } from '../../../src/broker/metadata/topic-config.js';
import type { BrokerPopService } from '../../../src/broker/pop/pop-service.js';
import { ReadStash, StashedRead, stashBytesMax } from '../../../src/broker/pop/read-stash.js';
import type { PopRequest, PopResult } from '../../../src/broker/pop/types.js';
import { encodeRecord } from '../../../src/common/record.js';
import { createMessageStore, type MessageStore, PutStatus } from '../../../src/store/index.js';
import { msg } from '../../store/helpers.js';
import { popServiceOf } from './pop-service-of.js';

function recordOf(body: string, queueOffset: bigint): Buffer {
  return encodeRecord(msg('T', 0, body), queueOffset, 1000n + queueOffset, 1n, '127.0.0.1:1');
}

function readOf(bodies: string[], from: bigint): StashedRead {
  const recs = bodies.map((b, i) => recordOf(b, from + BigInt(i)));
  // Two parts, as a read across two blocks gives.
  const all = Buffer.concat(recs);
  const cut = (recs[0] as Buffer).length + 3;
  return StashedRead.of(
    [all.subarray(0, cut), all.subarray(cut)],
    bodies.map((_, i) => from + BigInt(i)),
    from + BigInt(bodies.length),
  );
}

test('StashedRead: records found in the copied parts, taken in order; the offset after them follows', () => {
  const r = readOf(['a', 'bb', 'ccc', 'dddd'], 10n);
  assert.equal(r.left, 4);
  assert.equal(r.from, 10n);
  const t = r.take(3);
  assert.deepEqual([t.first, t.end, t.next], [0, 3, 13n]);
  assert.equal(r.from, 13n);
  assert.equal(r.buf.readInt32BE(r.starts[3] as number), r.bytes, 'the last record fills what is left');
  const u = r.take(3);
  assert.deepEqual([u.first, u.end, u.next], [3, 4, 14n], 'fewer when fewer are left; then the read end');
  assert.equal(r.left, 0);
  assert.equal(r.bytes, 0);
});

test('ReadStash: served only to a pop starting at its first offset within the queue; else dropped', () => {
  const s = new ReadStash();
  const r = readOf(['a', 'b', 'c', 'd'], 0n);
  r.take(2);
  s.put('k', r);
  assert.equal(s.bytes, r.bytes);
  assert.equal(s.takeAt('k', 3n, 100n), undefined, 'another start offset');
  assert.equal(s.size, 0, 'dropped');
  s.put('k', r);
  assert.equal(s.takeAt('k', 2n, 3n), undefined, 'the queue ends before the stash (cut under it)');
  s.put('k', r);
  assert.equal(s.takeAt('k', 2n, 4n), r);
  assert.equal(s.size, 0, 'taken out: the pop puts back what it leaves');
  assert.equal(s.bytes, 0);
});

test('ReadStash: the bytes limit drops the oldest stashes first, and a stash over it is not kept', () => {
  const s = new ReadStash();
  const big = 'x'.repeat(Math.floor(stashBytesMax / 3));
  for (const k of ['k1', 'k2', 'k3']) {
    const r = readOf(['a', big], 0n);
    r.take(1);
    s.put(k, r);
  }
  assert.equal(s.size, 2, 'the third pushed the first out');
  assert.equal(s.takeAt('k1', 1n, 2n), undefined);
  assert.ok(s.takeAt('k3', 1n, 2n) !== undefined);
  const huge = readOf(['a', 'y'.repeat(stashBytesMax)], 0n);
  huge.take(1);
  s.put('k4', huge);
  assert.equal(s.takeAt('k4', 1n, 2n), undefined);
  assert.ok(s.bytes <= stashBytesMax);
});

async function withService(
  total: number,
  fn: (pop: BrokerPopService, reads: { n: number }, store: MessageStore) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-read-stash-'));
  const store = createMessageStore({ storePathRootDir: dir }, { kind: 'memory' });
  await store.start();
  const config = brokerConfigOf({ storePathRootDir: dir, reviveQueueNum: 1 });
  const topics = new TopicConfigManager(config);
  topics.upsert(topicConfigOf('R1', 1));
  const reads = { n: 0 };
  // Counts the store reads of the popped topic.
  const counted: MessageStore = new Proxy(store, {
    get(target, prop) {
      if (prop === 'getMessage') {
        return (...a: Parameters<MessageStore['getMessage']>) => {
          if (a[0] === 'R1') reads.n++;
          return target.getMessage(...a);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const groups = new SubscriptionGroupManager(dir, true);
  const pop = popServiceOf(config, counted, topics, dir, 'test.read-stash', groups);
  await pop.start();
  try {
    for (let i = 0; i < total; i++)
      assert.equal((await store.putMessage(msg('R1', 0, `m${i}`))).status, PutStatus.PUT_OK);
    await fn(pop, reads, store);
  } finally {
    pop.stop();
    await store.shutdown();
    // Topics and groups save config/*.json in the background: a save still under way would make the dir again.
    await Promise.all([topics.persist(), groups.persist()]);
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

const req: PopRequest = {
  group: 'rs',
  topic: 'R1',
  queueId: 0,
  maxMessages: 32,
  invisibleTimeMs: 60_000,
  pollTimeMs: 0,
  initMode: 'min',
  filter: { type: 'TAG', expression: '*' },
  fifo: false,
};

function bodies(r: PopResult): string[] {
  return r.status === 'found' ? r.messages.map((m) => m.msg.body.toString()) : [];
}

test('four pops of one queue at once read the store once; every message handed out once, offsets in order', async () => {
  await withService(100, async (pop, reads) => {
    const got = (await Promise.all([pop.pop(req), pop.pop(req), pop.pop(req), pop.pop(req)])).map(bodies);
    assert.equal(reads.n, 1, 'one read of 4 pops worth served all four');
    assert.deepEqual(
      got.map((b) => b.length),
      [32, 32, 32, 4],
    );
    assert.deepEqual(
      got.flat(),
      Array.from({ length: 100 }, (_, i) => `m${i}`),
    );
    const r = await pop.pop(req);
    assert.equal(r.status, 'none');
    assert.equal(pop.stats().popInFlight, 100, 'every handed-out message has its check point');
  });
});

test('an offset reset while records are stashed: the next pop reads from the reset offset', async () => {
  await withService(100, async (pop, reads) => {
    assert.deepEqual(bodies(await pop.pop(req)).slice(0, 2), ['m0', 'm1']);
    assert.equal(reads.n, 1);
    pop.deps.offsets.assignReset('rs', 'R1', 0, 10n);
    const again = bodies(await pop.pop(req));
    assert.deepEqual(again.slice(0, 2), ['m10', 'm11'], 'not the stash (m32 on)');
    assert.equal(again.length, 32);
    assert.equal(reads.n, 2);
  });
});

test('a filtered pop reads only what it wants (no read-ahead)', async () => {
  await withService(100, async (pop, reads) => {
    const tagged: PopRequest = { ...req, filter: { type: 'TAG', expression: 'TagA || TagB' } };
    await pop.pop(tagged);
    await pop.pop(tagged);
    assert.equal(reads.n, 2);
  });
});
