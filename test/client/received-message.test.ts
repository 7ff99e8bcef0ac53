import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { deflateSync } from 'node:zlib';
import { decodePulled } from '../../src/client/received-message.js';
import { SysFlag } from '../../src/common/message.js';
import { encodeProperties } from '../../src/common/properties.js';
import { decodeRecords, encodeRecord, RecordFormatError } from '../../src/common/record.js';
import type { MessageInput } from '../../src/store/types.js';

function input(over: Partial<MessageInput> = {}): MessageInput {
  return {
    topic: 'TopicA',
    queueId: 3,
    flag: 7,
    body: Buffer.from('hello'),
    properties: encodeProperties({ TAGS: 'tagA', KEYS: 'k1 k2', UNIQ_KEY: 'AB'.repeat(16) }),
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_123n,
    bornHost: '10.0.0.1:5000',
    reconsumeTimes: 2,
    preparedTransactionOffset: 0n,
    tagsCode: 0n,
    ...over,
  };
}

const noBad = (pos: number, err: unknown) => assert.fail(`record at ${pos} undecodable: ${String(err)}`);

test('pulled messages read every field as the eager record decoder does', () => {
  const body = Buffer.concat([
    encodeRecord(input(), 42n, 4096n, 1_700_000_000_456n, '192.168.0.1:10911'),
    encodeRecord(input({ body: Buffer.from('second'), properties: '' }), 43n, 5000n, 1_700_000_000_789n, '1.2.3.4:5'),
  ]);
  const [a, b] = decodePulled(body, { brokerName: 'b0' }, noBad);
  const [ea, eb] = decodeRecords(body);
  assert.ok(a && b && ea && eb);
  assert.deepEqual(a.body, Buffer.from('hello'));
  assert.equal(a.topic, 'TopicA');
  assert.equal(a.sourceTopic, 'TopicA');
  assert.equal(a.msgId, 'AB'.repeat(16));
  assert.equal(a.offsetMsgId, ea.offsetMsgId);
  assert.equal(a.tags, 'tagA');
  assert.deepEqual(a.keys, ['k1', 'k2']);
  assert.deepEqual(a.properties, ea.properties);
  assert.equal(a.queueId, 3);
  assert.equal(a.flag, 7);
  assert.equal(a.queueOffset, 42n);
  assert.equal(a.commitLogOffset, 4096n);
  assert.equal(a.bornTimestamp, 1_700_000_000_123);
  assert.equal(a.storeTimestamp, 1_700_000_000_456);
  assert.equal(a.bornHost, '10.0.0.1:5000');
  assert.equal(a.storeHost, '192.168.0.1:10911');
  assert.equal(a.reconsumeTimes, 2);
  assert.equal(a.brokerName, 'b0');
  // No UNIQ_KEY: msgId falls back to offsetMsgId; no tags or keys.
  assert.equal(b.msgId, eb.offsetMsgId);
  assert.equal(b.tags, undefined);
  assert.deepEqual(b.keys, []);
  assert.equal(b.queueOffset, 43n);
  // console.log and toJSON() show the fields, not the lazy internals.
  const plain = (a as unknown as { toJSON(): Record<string, unknown> }).toJSON();
  for (const k of ['topic', 'msgId', 'offsetMsgId', 'queueOffset', 'storeHost', 'bornTimestamp'] as const) {
    assert.deepEqual(plain[k], a[k]);
  }
  assert.match(inspect(a), /queueOffset: 42n/);
});

test('retried messages get their original topic back only from the retry topic', () => {
  const props = encodeProperties({ RETRY_TOPIC: 'TopicA' });
  const rec = encodeRecord(input({ topic: '%RETRY%g1', properties: props }), 0n, 0n, 1n, '1.2.3.4:5');
  const [viaRetry] = decodePulled(rec, { brokerName: 'b0', retryTopic: '%RETRY%g1' }, noBad);
  assert.equal(viaRetry?.topic, 'TopicA');
  assert.equal(viaRetry?.sourceTopic, '%RETRY%g1');
  const [other] = decodePulled(rec, { brokerName: 'b0', retryTopic: '%RETRY%g2' }, noBad);
  assert.equal(other?.topic, '%RETRY%g1');
});

test('compressed bodies are inflated; one that does not inflate is reported and skipped', () => {
  const ok = encodeRecord(
    input({ body: deflateSync(Buffer.from('x'.repeat(5000))), sysFlag: SysFlag.compressed }),
    0n,
    0n,
    1n,
    '1.2.3.4:5',
  );
  const bad = encodeRecord(
    input({ body: Buffer.from('not zlib'), sysFlag: SysFlag.compressed }),
    1n,
    0n,
    1n,
    '1.2.3.4:5',
  );
  const skipped: number[] = [];
  const msgs = decodePulled(Buffer.concat([ok, bad]), { brokerName: 'b0' }, (pos) => skipped.push(pos));
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0]?.body.toString(), 'x'.repeat(5000));
  assert.deepEqual(skipped, [ok.length]);
});

test('a malformed body throws RecordFormatError', () => {
  const rec = encodeRecord(input(), 0n, 0n, 1n, '1.2.3.4:5');
  rec.writeUInt32BE(0x12345678, 4);
  assert.throws(() => decodePulled(rec, { brokerName: 'b0' }, noBad), RecordFormatError);
  assert.throws(
    () => decodePulled(encodeRecord(input(), 0n, 0n, 1n, '1.2.3.4:5').subarray(0, 50), { brokerName: 'b0' }, noBad),
    RecordFormatError,
  );
});
