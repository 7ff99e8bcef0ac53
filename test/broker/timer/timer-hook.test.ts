/** The timer put hook: which messages it moves to rmq_sys_wheel_timer, the precedence of the properties, refusals. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timerHook } from '../../../src/broker/put/timer-hook.js';
import type { PutMessage } from '../../../src/broker/put/types.js';
import { SysFlag } from '../../../src/common/message.js';
import { decodeProperties, encodeProperties, Prop } from '../../../src/common/properties.js';
import { SystemTopic } from '../../../src/common/topics.js';
import { ResponseCode } from '../../../src/remoting/codes.js';

const nowMs = 1_800_000_000_000;
const hook = timerHook({ timer: { timerWheelEnable: true, timerMaxDelaySec: 3600 }, nowMs: () => nowMs });

function msg(props: Record<string, string>, over: Partial<PutMessage> = {}): PutMessage {
  return {
    topic: 'T',
    queueId: 5,
    flag: 0,
    body: Buffer.from('x'),
    properties: encodeProperties({ UNIQ_KEY: 'AB', TAGS: 'tg', ...props }),
    sysFlag: 0,
    bornTimestamp: 1n,
    bornHost: '127.0.0.1:1',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: 7n,
    scheduled: true,
    ...over,
  };
}
const req = { reconsumeTimes: 0, maxReconsumeTimes: undefined };
const propsOf = (m: PutMessage) => decodeProperties(String(m.properties));

test('TIMER_DELIVER_MS ahead: stored in the timer topic with TIMER_OUT_MS, REAL_TOPIC, REAL_QID; tagsCode = time', () => {
  const m = msg({ [Prop.timerDeliverMs]: String(nowMs + 5000) });
  assert.equal(hook.beforePut(m, req), undefined);
  assert.equal(m.topic, SystemTopic.wheelTimer);
  assert.equal(m.queueId, 0);
  assert.equal(m.tagsCode, BigInt(nowMs + 5000));
  const p = propsOf(m);
  assert.equal(p.get(Prop.timerOutMs), String(nowMs + 5000));
  assert.equal(p.get(Prop.realTopic), 'T');
  assert.equal(p.get(Prop.realQueueId), '5');
  assert.equal(p.get(Prop.uniqKey), 'AB');
});

test('precedence as RocketMQ: TIMER_DELAY_SEC > TIMER_DELAY_MS > TIMER_DELIVER_MS > __STARTDELIVERTIME', () => {
  const all = {
    [Prop.timerDelaySec]: '3',
    [Prop.timerDelayMs]: '700',
    [Prop.timerDeliverMs]: String(nowMs + 9000),
    [Prop.startDeliverTime]: String(nowMs + 11_000),
  };
  const cases: Array<[Record<string, string>, number]> = [
    [all, nowMs + 3000],
    [{ ...all, [Prop.timerDelaySec]: undefined as unknown as string }, nowMs + 700],
    [
      { [Prop.timerDeliverMs]: all[Prop.timerDeliverMs], [Prop.startDeliverTime]: all[Prop.startDeliverTime] },
      nowMs + 9000,
    ],
    [{ [Prop.startDeliverTime]: all[Prop.startDeliverTime] }, nowMs + 11_000],
  ];
  for (const [props, want] of cases) {
    const clean = Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined));
    const m = msg(clean);
    assert.equal(hook.beforePut(m, req), undefined);
    assert.equal(propsOf(m).get(Prop.timerOutMs), String(want), JSON.stringify(clean));
  }
});

test('deliver time at or before now: stored as a normal message', () => {
  const cases: Array<Record<string, string>> = [
    { [Prop.timerDeliverMs]: String(nowMs) },
    { [Prop.timerDelaySec]: '-4' },
    { [Prop.timerDelayMs]: '0' },
  ];
  for (const props of cases) {
    const m = msg(props);
    assert.equal(hook.beforePut(m, req), undefined);
    assert.equal(m.topic, 'T');
    assert.equal(m.queueId, 5);
    assert.equal(m.tagsCode, 7n);
  }
});

test('unparsable values and times beyond timerMaxDelaySec are refused MESSAGE_ILLEGAL with a clear remark', () => {
  for (const [props, words] of [
    [{ [Prop.timerDelaySec]: 'ten' }, "TIMER_DELAY_SEC is not an integer: 'ten'"],
    [{ [Prop.timerDelayMs]: '1.5' }, 'TIMER_DELAY_MS is not an integer'],
    [{ [Prop.timerDeliverMs]: '' }, 'TIMER_DELIVER_MS is not an integer'],
    [{ [Prop.startDeliverTime]: '99999999999999999999' }, '__STARTDELIVERTIME is not an integer'],
    [{ [Prop.timerDelaySec]: '3601' }, 'more than timerMaxDelaySec=3600'],
    [{ [Prop.timerDeliverMs]: String(nowMs + 3_600_001) }, 'more than timerMaxDelaySec=3600'],
  ] as const) {
    const m = msg(props);
    const refused = hook.beforePut(m, req);
    assert.equal(refused?.code, ResponseCode.MESSAGE_ILLEGAL, JSON.stringify(props));
    assert.match(refused?.remark ?? '', /^timer message illegal, /);
    assert.ok(refused?.remark.includes(words), refused?.remark);
    assert.equal(m.topic, 'T');
  }
  const atLimit = msg({ [Prop.timerDelaySec]: '3600' });
  assert.equal(hook.beforePut(atLimit, req), undefined);
  assert.equal(atLimit.topic, SystemTopic.wheelTimer);
});

test('a delay level > 0 wins: the timer properties are removed and the topic is left to the delay hook', () => {
  const m = msg({ [Prop.delayLevel]: '2', [Prop.timerDelaySec]: '30', [Prop.startDeliverTime]: String(nowMs + 1) });
  assert.equal(hook.beforePut(m, req), undefined);
  assert.equal(m.topic, 'T');
  const p = propsOf(m);
  assert.equal(p.get(Prop.delayLevel), '2');
  assert.equal(p.has(Prop.timerDelaySec), false);
  assert.equal(p.has(Prop.startDeliverTime), false);
  const level0 = msg({ [Prop.delayLevel]: '0', [Prop.timerDelaySec]: '30' });
  hook.beforePut(level0, req);
  assert.equal(level0.topic, SystemTopic.wheelTimer);
});

test('left alone: not scheduled, half messages, the timer topic itself, TIMER_OUT_MS already set', () => {
  const ahead = { [Prop.timerDelaySec]: '30' };
  const cases = [
    msg(ahead, { scheduled: false }),
    msg(ahead, { transactionPrepared: true }),
    msg(ahead, { sysFlag: SysFlag.transactionPreparedType }),
    msg(ahead, { sysFlag: SysFlag.transactionRollbackType }),
    msg({ ...ahead, [Prop.timerOutMs]: String(nowMs + 1) }),
  ];
  for (const m of cases) {
    const before = String(m.properties);
    assert.equal(hook.beforePut(m, req), undefined);
    assert.equal(m.topic, 'T');
    assert.equal(String(m.properties), before);
  }
  const committed = msg(ahead, { sysFlag: SysFlag.transactionCommitType });
  hook.beforePut(committed, req);
  assert.equal(committed.topic, SystemTopic.wheelTimer);
});

test('batch items carry properties as bytes: read and rewritten the same way', () => {
  const m = msg({});
  m.properties = Buffer.from(encodeProperties({ UNIQ_KEY: 'CD', [Prop.timerDelayMs]: '1500' }), 'utf8');
  assert.equal(hook.beforePut(m, req), undefined);
  assert.equal(m.topic, SystemTopic.wheelTimer);
  assert.equal(propsOf(m).get(Prop.timerOutMs), String(nowMs + 1500));
});

test('timerWheelEnable=false: timer messages are refused with a clear error; others pass', () => {
  const off = timerHook({ timer: { timerWheelEnable: false, timerMaxDelaySec: 3600 }, nowMs: () => nowMs });
  const refused = off.beforePut(msg({ [Prop.startDeliverTime]: String(nowMs + 10) }), req);
  assert.equal(refused?.code, ResponseCode.SYSTEM_ERROR);
  assert.match(refused?.remark ?? '', /timerWheelEnable=false/);
  assert.equal(off.beforePut(msg({}, { scheduled: true }), req), undefined);
});
