/**
 * A due timer record read in place (fireOutcomeOf over stored-props.ts) becomes the same message, byte for byte
 * once stored, as decoding the record and editing its properties as a Map gives (RocketMQ's convertMessage:
 * REAL_TOPIC / REAL_QID and the timer properties removed, TIMER_ENQUEUE_MS / TIMER_DEQUEUE_MS added).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageInputOf } from '../../../src/broker/put/message-input.js';
import { timerHook } from '../../../src/broker/put/timer-hook.js';
import type { PutMessage } from '../../../src/broker/put/types.js';
import { fireOutcomeOf } from '../../../src/broker/timer/fire-message.js';
import { timerRequestProps } from '../../../src/broker/timer/timer-props.js';
import { encodeProperties, Prop } from '../../../src/common/properties.js';
import { bodyCrc, decodeRecord, encodeRecord } from '../../../src/common/record.js';
import type { MessageInput } from '../../../src/store/types.js';

const nowMs = 1_700_000_000_000;
const hook = timerHook({ timer: { timerWheelEnable: true, timerMaxDelaySec: 3600 }, nowMs: () => nowMs });

/** The rmq_sys_wheel_timer record the timer hook makes of a send with `props` (one of them asks for a time). */
function timerRecord(props: Record<string, string>, body: Buffer): Buffer {
  const msg: PutMessage = {
    topic: 'Orders',
    queueId: 3,
    flag: 5,
    body,
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
  assert.equal(msg.topic, 'rmq_sys_wheel_timer');
  return encodeRecord(msg, 17n, 4096n, 1_700_000_000_001n, '10.0.0.2:10911');
}

/** The reference: decode, edit the properties as a Map, encode again. */
function viaDecode(rec: Buffer, firedMs: number): MessageInput {
  const m = decodeRecord(rec).msg;
  const props = new Map(m.properties);
  const topic = props.get(Prop.realTopic) as string;
  const queueId = Number(props.get(Prop.realQueueId));
  for (const name of [Prop.realTopic, Prop.realQueueId, Prop.timerOutMs, ...timerRequestProps]) props.delete(name);
  props.set(Prop.timerEnqueueMs, String(m.storeTimestamp));
  props.set(Prop.timerDequeueMs, String(firedMs));
  return { ...messageInputOf(m, props, topic, queueId), bodyCrc: bodyCrc(m.body) };
}

const stored = (input: MessageInput) => encodeRecord(input, 3n, 9000n, 1_700_000_002_000n, '10.0.0.2:10911');

test('the fired message read in place equals the decoded and re-encoded one, byte for byte once stored', () => {
  const due = String(nowMs + 5000);
  const cases: Record<string, string>[] = [
    { TIMER_DELIVER_MS: due, TAGS: 'TagA', KEYS: 'k1 k2', UNIQ_KEY: 'U1' },
    { TAGS: 'TagA', TIMER_DELAY_SEC: '5', UNIQ_KEY: 'U2', 'x-user': 'v' },
    { UNIQ_KEY: 'U3', 'x-ü': 'wert ✓', KEYS: ' a  b ', TIMER_DELAY_MS: '5000' },
    { TIMER_DELIVER_MS: due },
    { empty: '', TIMER_DELIVER_MS: due, UNIQ_KEY: 'U5', WAIT: 'true' },
  ];
  for (const [i, props] of cases.entries()) {
    const body = Buffer.alloc(i * 300 + 1, i + 1);
    const rec = timerRecord(props, body);
    const firedMs = nowMs + 5000 + i;
    const got = fireOutcomeOf(rec, firedMs);
    assert.equal(got.kind, 'put', JSON.stringify(props));
    if (got.kind !== 'put') continue;
    assert.equal(got.deliverMs, nowMs + 5000);
    const want = viaDecode(rec, firedMs);
    assert.deepEqual(got.input, want, JSON.stringify(props));
    assert.ok(stored(got.input).equals(stored(want)), JSON.stringify(props));
    assert.equal(got.input.topic, 'Orders');
    assert.equal(got.input.queueId, 3);
    assert.ok(!String(got.input.properties).includes(`${Prop.realTopic}\u0001`));
  }
});

test('a record fired before its TIMER_OUT_MS is early, a recall marker is a recall, no REAL_TOPIC is bad', () => {
  const rec = timerRecord({ TIMER_DELIVER_MS: String(nowMs + 5000), UNIQ_KEY: 'U' }, Buffer.from('b'));
  assert.deepEqual(fireOutcomeOf(rec, nowMs + 4999), { kind: 'early', deliverMs: nowMs + 5000 });
  const marker = timerRecord(
    { TIMER_DELIVER_MS: String(nowMs + 5000), [Prop.timerDelUniqKey]: 'Orders_U' },
    Buffer.from('m'),
  );
  assert.deepEqual(fireOutcomeOf(marker, nowMs + 5000), { kind: 'recall', key: 'Orders_U', deliverMs: nowMs + 5000 });
  const base = { topic: 'rmq_sys_wheel_timer', queueId: 0, flag: 0, body: Buffer.from('b'), sysFlag: 0 };
  const rest = { bornTimestamp: 1n, bornHost: '1.2.3.4:5', reconsumeTimes: 0, preparedTransactionOffset: 0n };
  const bad = encodeRecord(
    { ...base, ...rest, properties: encodeProperties({ TIMER_OUT_MS: '1' }) },
    0n,
    0n,
    2n,
    '1.2.3.4:5',
  );
  assert.equal(fireOutcomeOf(bad, nowMs).kind, 'bad');
});
