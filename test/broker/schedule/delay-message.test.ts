/**
 * The real message of a due entry, read in place from the stored record, is the one decoding the record and
 * editing its properties as a Map gives (RocketMQ's messageTimeup: DELAY removed, REAL_TOPIC / REAL_QID kept).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delayHook } from '../../../src/broker/put/delay-hook.js';
import { messageInputOf } from '../../../src/broker/put/message-input.js';
import type { PutMessage } from '../../../src/broker/put/types.js';
import { realMessageOfRecord } from '../../../src/broker/schedule/delay-message.js';
import { encodeProperties, Prop } from '../../../src/common/properties.js';
import { bodyCrc, decodeRecord, encodeRecord } from '../../../src/common/record.js';
import { DelayLevels } from '../../../src/store/delay-levels.js';

const hook = delayHook({ levels: new DelayLevels([1000, 5000]), nowMs: () => 1_700_000_000_000 });

/** The SCHEDULE_TOPIC_XXXX record the delay hook makes of a send with `props`. */
function scheduledRecord(props: Record<string, string>, body = 'body'): Buffer {
  const msg: PutMessage = {
    topic: 'Orders',
    queueId: 3,
    flag: 5,
    body: Buffer.from(body),
    properties: encodeProperties(props),
    sysFlag: 1,
    bornTimestamp: 1_699_999_999_000n,
    bornHost: '192.168.7.9:40001',
    reconsumeTimes: 4,
    preparedTransactionOffset: 0n,
    tagsCode: 0n,
    scheduled: true,
  };
  assert.equal(hook.beforePut(msg, { reconsumeTimes: 0, maxReconsumeTimes: undefined }), undefined);
  assert.equal(msg.topic, 'SCHEDULE_TOPIC_XXXX');
  return encodeRecord(msg, 17n, 4096n, 1_700_000_000_001n, '10.0.0.2:10911');
}

/** What the broker put before records were read in place: decode, drop DELAY from the Map, encode again. */
function viaDecode(rec: Buffer) {
  const m = decodeRecord(rec).msg;
  const props = new Map(m.properties);
  props.delete(Prop.delayLevel);
  const input = messageInputOf(m, props, props.get(Prop.realTopic) as string, Number(props.get(Prop.realQueueId)));
  // The stored BODYCRC is passed on rather than computed again: it must be the body's.
  return { ...input, bodyCrc: bodyCrc(m.body) };
}

test('the real message read in place equals the decoded and re-encoded one, for DELAY anywhere in the list', () => {
  const cases: Record<string, string>[] = [
    { DELAY: '2', TAGS: 'TagA', KEYS: 'k1 k2', UNIQ_KEY: 'U1' },
    { TAGS: 'TagA', DELAY: '1', UNIQ_KEY: 'U2', 'x-user': 'v' },
    { UNIQ_KEY: 'U3', 'x-ü': 'wert ✓', KEYS: ' a  b ', DELAY: '9' },
    { DELAY: '1', UNIQ_KEY: 'U4', empty: '', TIMER_DELIVER_MS: '1700000005000' },
    { DELAY: '2' },
  ];
  for (const props of cases) {
    const rec = scheduledRecord(props);
    const got = realMessageOfRecord(rec);
    assert.ok(typeof got !== 'string', JSON.stringify(props));
    assert.deepEqual(got, viaDecode(rec), JSON.stringify(props));
    assert.equal(got.topic, 'Orders');
    assert.equal(got.queueId, 3);
    assert.ok(!String(got.properties).includes(`${Prop.delayLevel}\u0001`));
    assert.ok(String(got.properties).includes(`${Prop.realTopic}\u0001Orders\u0002`));
  }
});

test('an entry without REAL_TOPIC or with a bad REAL_QID is named, not delivered', () => {
  const base = { topic: 'SCHEDULE_TOPIC_XXXX', queueId: 0, flag: 0, body: Buffer.from('b'), sysFlag: 0 };
  const rest = { bornTimestamp: 1n, bornHost: '1.2.3.4:5', reconsumeTimes: 0, preparedTransactionOffset: 0n };
  const rec = (props: Record<string, string>) =>
    encodeRecord({ ...base, ...rest, properties: encodeProperties(props) }, 0n, 0n, 2n, '1.2.3.4:5');
  assert.equal(realMessageOfRecord(rec({ DELAY: '1', UNIQ_KEY: 'U' })), 'no REAL_TOPIC property');
  assert.equal(
    realMessageOfRecord(rec({ DELAY: '1', REAL_TOPIC: 'T', REAL_QID: '-1' })),
    'REAL_QID "-1" is not a queue id',
  );
  assert.equal(realMessageOfRecord(rec({ REAL_TOPIC: 'T' })), 'REAL_QID "undefined" is not a queue id');
});
