/** One behaviour suite for every MessageStore implementation (file and memory). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { javaStringHashCode } from '../../src/common/hash.js';
import { SysFlag } from '../../src/common/message.js';
import { decodeRecord, decodeRecords } from '../../src/common/record.js';
import { offsetMsgIdsOf } from '../../src/store/results.js';
import type { MessageStore } from '../../src/store/types.js';
import { GetStatus, PutStatus } from '../../src/store/types.js';
import { msg } from './helpers.js';

export interface StoreHarness {
  store: MessageStore;
  close(): Promise<void>;
}

export function storeSuite(name: string, open: () => Promise<StoreHarness>): void {
  describe(`MessageStore contract: ${name}`, () => {
    test('put then get by queue offset, in order, with offsets and ids', async () => {
      const h = await open();
      try {
        const s = h.store;
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => s.putMessage(msg('T1', i % 2, `body-${i}`))),
        );
        for (const r of results) assert.equal(r.status, PutStatus.PUT_OK);
        assert.equal(s.getMaxOffsetInQueue('T1', 0), 25n);
        assert.equal(s.getMinOffsetInQueue('T1', 0), 0n);
        const got = await s.getMessage('T1', 0, 0n, 100, 1 << 20);
        assert.equal(got.status, GetStatus.FOUND);
        assert.equal(got.records.length, 25);
        assert.equal(got.nextBeginOffset, 25n);
        const msgs = decodeRecords(Buffer.concat(got.records));
        assert.deepEqual(
          msgs.map((m) => m.body.toString()),
          Array.from({ length: 25 }, (_, i) => `body-${i * 2}`),
        );
        assert.deepEqual(
          msgs.map((m) => m.queueOffset),
          got.queueOffsets,
        );
        const first = results[0];
        assert.ok(first !== undefined);
        const rec = await s.lookMessageByOffset(first.wroteOffset);
        assert.ok(rec !== undefined);
        assert.equal(decodeRecord(rec).msg.offsetMsgId, offsetMsgIdsOf(first)[0]);
        assert.deepEqual(s.queuesOf('T1'), [0, 1]);
      } finally {
        await h.close();
      }
    });

    test('statuses at the edges of a queue', async () => {
      const h = await open();
      try {
        const s = h.store;
        assert.equal((await s.getMessage('none', 0, 0n, 10, 1 << 20)).status, GetStatus.NO_MATCHED_LOGIC_QUEUE);
        await s.putMessage(msg('T2', 0, 'a'));
        assert.equal((await s.getMessage('T2', 0, 1n, 10, 1 << 20)).status, GetStatus.OFFSET_OVERFLOW_ONE);
        assert.equal((await s.getMessage('T2', 0, 5n, 10, 1 << 20)).status, GetStatus.OFFSET_OVERFLOW_BADLY);
        const big = await s.putMessage(msg('T2', 0, Buffer.alloc(4 * 1024 * 1024 + 1)));
        assert.equal(big.status, PutStatus.MESSAGE_ILLEGAL);
        assert.match(big.remark ?? '', /maxMessageSize/);
        const props = msg('T2', 0, 'x');
        props.properties = `K\u0001${'v'.repeat(33 * 1024)}\u0002`;
        assert.equal((await s.putMessage(props)).status, PutStatus.PROPERTIES_SIZE_EXCEEDED);
        assert.equal((await s.putMessage(msg('x'.repeat(128), 0, 'x'))).status, PutStatus.MESSAGE_ILLEGAL);
      } finally {
        await h.close();
      }
    });

    test('batch put gets consecutive queue offsets and is read back whole', async () => {
      const h = await open();
      try {
        const s = h.store;
        await s.putMessage(msg('B', 0, 'before'));
        const r = await s.putMessages(Array.from({ length: 10 }, (_, i) => msg('B', 0, `b${i}`)));
        assert.equal(r.status, PutStatus.PUT_OK);
        assert.equal(r.queueOffset, 1n);
        assert.equal(r.msgNum, 10);
        assert.equal(offsetMsgIdsOf(r).length, 10);
        const got = await s.getMessage('B', 0, 1n, 32, 1 << 20);
        const stored = decodeRecords(Buffer.concat(got.records));
        assert.deepEqual(
          stored.map((m) => m.body.toString()),
          Array.from({ length: 10 }, (_, i) => `b${i}`),
        );
        // Each id names its own record, in order, in the joined text a send answers.
        assert.equal(r.offsetMsgIdsText, stored.map((m) => m.offsetMsgId).join(','));
      } finally {
        await h.close();
      }
    });

    test('tag filter, max bytes, arrival listener', async () => {
      const h = await open();
      try {
        const s = h.store;
        const arrived: number[] = [];
        s.addArrivalListener((topic, _q, qo) => {
          if (topic === 'F') arrived.push(qo);
        });
        for (let i = 0; i < 20; i++) await s.putMessage(msg('F', 0, `m${i}`, { tag: i % 2 === 0 ? 'even' : 'odd' }));
        assert.equal(arrived.length, 20);
        const even = BigInt(javaStringHashCode('even'));
        const got = await s.getMessage('F', 0, 0n, 32, 1 << 20, { isMatchedByTagsCode: (c) => c === even });
        assert.equal(got.records.length, 10);
        assert.ok(decodeRecords(Buffer.concat(got.records)).every((m) => m.properties.get('TAGS') === 'even'));
        const one = await s.getMessage('F', 0, 0n, 32, 1);
        assert.equal(one.records.length, 1);
        assert.equal(one.nextBeginOffset, 1n);
      } finally {
        await h.close();
      }
    });

    test('property filter: each record is judged on its properties bytes, unmatched ones skipped', async () => {
      const h = await open();
      try {
        const s = h.store;
        for (let i = 0; i < 30; i++) await s.putMessage(msg('PF', 0, `m${i}`, { tag: `t${i % 3}`, keys: [`k${i}`] }));
        const seen: string[] = [];
        const got = await s.getMessage('PF', 0, 0n, 32, 1 << 20, {
          isMatchedByTagsCode: () => true,
          isMatchedByProperties: (buf, start, end) => {
            const props = buf.toString('utf8', start, end);
            seen.push(props);
            return props.includes('TAGS\u0001t1\u0002');
          },
        });
        assert.equal(seen.length, 30, 'every record offered, as its own properties');
        assert.ok(seen.every((p, i) => p.includes(`KEYS\u0001k${i}\u0002`)));
        assert.equal(got.records.length, 10);
        assert.deepEqual(
          decodeRecords(Buffer.concat(got.records)).map((m) => m.body.toString()),
          Array.from({ length: 10 }, (_, i) => `m${i * 3 + 1}`),
        );
        assert.equal(got.nextBeginOffset, 30n);
        const none = await s.getMessage('PF', 0, 0n, 32, 1 << 20, {
          isMatchedByTagsCode: () => true,
          isMatchedByProperties: () => false,
        });
        assert.equal(none.status, GetStatus.NO_MATCHED_MESSAGE);
        assert.equal(none.nextBeginOffset, 30n);
      } finally {
        await h.close();
      }
    });

    test('property filter: a selective one fills a pull from many entries and stops right after the last match', async () => {
      const h = await open();
      try {
        const s = h.store;
        const all = Array.from({ length: 600 }, (_, i) =>
          msg('PS', 0, `m${i}`, { tag: i % 100 === 7 ? 'hit' : 'miss' }),
        );
        for (let i = 0; i < all.length; i += 50)
          assert.equal((await s.putMessages(all.slice(i, i + 50))).status, PutStatus.PUT_OK);
        const hits = {
          isMatchedByTagsCode: () => true,
          isMatchedByProperties: (buf: Buffer, start: number, end: number) =>
            buf.toString('utf8', start, end).includes('TAGS\u0001hit\u0002'),
        };
        const bodies = (r: { records: Buffer[] }) =>
          decodeRecords(Buffer.concat(r.records)).map((m) => m.body.toString());
        const full = await s.getMessage('PS', 0, 0n, 32, 1 << 20, hits);
        assert.deepEqual(bodies(full), ['m7', 'm107', 'm207', 'm307', 'm407', 'm507']);
        assert.equal(full.nextBeginOffset, 600n);
        const two = await s.getMessage('PS', 0, 0n, 2, 1 << 20, hits);
        assert.deepEqual(bodies(two), ['m7', 'm107']);
        assert.equal(two.nextBeginOffset, 108n, 'right after the last match');
        const more = await s.getMessage('PS', 0, two.nextBeginOffset, 2, 1 << 20, hits);
        assert.deepEqual(bodies(more), ['m207', 'm307']);
        assert.equal(more.nextBeginOffset, 308n);
        const oneByBytes = await s.getMessage('PS', 0, 0n, 32, 1, hits);
        assert.deepEqual(bodies(oneByBytes), ['m7']);
        assert.ok(oneByBytes.nextBeginOffset > 7n && oneByBytes.nextBeginOffset <= 107n);
      } finally {
        await h.close();
      }
    });

    test('query by key and uniq key within a time range; offset by time', async () => {
      const h = await open();
      try {
        const s = h.store;
        const r1 = await s.putMessage(msg('Q', 0, 'k1', { keys: ['order-1', 'x'], uniqKey: 'U1' }));
        await s.putMessage(msg('Q', 0, 'k2', { keys: ['order-2'] }));
        const found = await s.queryMessage('Q', 'order-1', 10, 0n, BigInt(Date.now() + 60_000) * 2n);
        assert.equal(found.records.length, 1);
        assert.equal(decodeRecord(found.records[0] as Buffer).msg.body.toString(), 'k1');
        const byUniq = await s.queryMessage('Q', 'U1', 10, 0n, r1.storeTimestamp + 1000n);
        assert.equal(byUniq.records.length, 1);
        assert.equal((await s.queryMessage('Q', 'nope', 10, 0n, r1.storeTimestamp + 1000n)).records.length, 0);
        assert.equal(await s.getOffsetInQueueByTime('Q', 0, 0n), 0n);
        assert.equal(await s.getOffsetInQueueByTime('Q', 0, r1.storeTimestamp + 10_000_000n), 2n);
        assert.equal(await s.getEarliestMessageTime('Q', 0), r1.storeTimestamp);
      } finally {
        await h.close();
      }
    });

    test('a UNIQ_KEY given as bytes of the properties (batch items) is found by query as the string one', async () => {
      const h = await open();
      try {
        const s = h.store;
        // H*: the put also gives the key's hash taken while the send path scanned the bytes (uniqKeyHash).
        const keys = ['B1', 'B2', 'B3', 'H1', 'H2'];
        const batch = keys.map((key) => {
          const m = msg('QB', 0, `body-${key}`);
          const props = Buffer.from(`WAIT\u0001true\u0002UNIQ_KEY\u0001${key}\u0002`, 'latin1');
          m.properties = props;
          m.uniqKeyBytes = props;
          m.uniqKeyAt = props.indexOf(key);
          m.uniqKeyEnd = m.uniqKeyAt + key.length;
          if (key.startsWith('H')) m.uniqKeyHash = javaStringHashCode(key);
          return m;
        });
        const r = await s.putMessages(batch);
        assert.equal(r.status, 'PUT_OK');
        for (const key of keys) {
          const found = await s.queryMessage('QB', key, 10, 0n, r.storeTimestamp + 1000n);
          assert.equal(found.records.length, 1, key);
          assert.equal(decodeRecord(found.records[0] as Buffer).msg.body.toString(), `body-${key}`);
        }
        assert.equal((await s.queryMessage('QB', 'B', 10, 0n, r.storeTimestamp + 1000n)).records.length, 0);
      } finally {
        await h.close();
      }
    });

    test('prepared and rolled-back records take no queue offset: stored QUEUEOFFSET = ConsumeQueue position', async () => {
      const h = await open();
      try {
        const s = h.store;
        const tx = (body: string, sysFlag: number) => ({ ...msg('TX', 0, body), sysFlag });
        const puts = [
          await s.putMessage(msg('TX', 0, 'n0')),
          await s.putMessage(tx('p1', SysFlag.transactionPreparedType)),
          await s.putMessage(msg('TX', 0, 'n1')),
          await s.putMessage(tx('r1', SysFlag.transactionRollbackType)),
          await s.putMessage(tx('c2', SysFlag.transactionCommitType)),
          await s.putMessages([msg('TX', 0, 'n3'), tx('p2', SysFlag.transactionPreparedType), msg('TX', 0, 'n4')]),
        ];
        for (const r of puts) assert.equal(r.status, PutStatus.PUT_OK);
        assert.deepEqual(
          puts.map((r) => r.queueOffset),
          [0n, 1n, 1n, 2n, 2n, 3n],
        );
        assert.equal(s.getMaxOffsetInQueue('TX', 0), 5n);
        const got = await s.getMessage('TX', 0, 0n, 100, 1 << 20);
        const msgs = decodeRecords(Buffer.concat(got.records));
        assert.deepEqual(
          msgs.map((m) => m.body.toString()),
          ['n0', 'n1', 'c2', 'n3', 'n4'],
        );
        assert.deepEqual(
          msgs.map((m) => m.queueOffset),
          [0n, 1n, 2n, 3n, 4n],
        );
        assert.deepEqual(got.queueOffsets, [0n, 1n, 2n, 3n, 4n]);
        // The prepared record is stored with the offset the next consumable record takes, without taking it.
        const prepared = await s.lookMessageByOffset(puts[1]?.wroteOffset ?? -1n);
        assert.ok(prepared !== undefined);
        assert.equal(decodeRecord(prepared).msg.queueOffset, 1n);
      } finally {
        await h.close();
      }
    });

    test('deleteTopics removes its queues', async () => {
      const h = await open();
      try {
        const s = h.store;
        await s.putMessage(msg('D', 0, 'x'));
        s.deleteTopics(['D']);
        assert.deepEqual(s.queuesOf('D'), []);
        assert.equal(s.getMaxOffsetInQueue('D', 0), 0n);
      } finally {
        await h.close();
      }
    });
  });
}
