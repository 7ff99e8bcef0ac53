/** The delay hook: DELAY > 0 → SCHEDULE_TOPIC_XXXX queue level − 1, REAL_* kept, tagsCode = due time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delayHook, delayLevelOf } from '../../../src/broker/put/delay-hook.js';
import { type PutMessage, PutRefusal, type PutRequest } from '../../../src/broker/put/types.js';
import { SysFlag } from '../../../src/common/message.js';
import { decodeProperties, encodeProperties } from '../../../src/common/properties.js';
import { ResponseCode } from '../../../src/remoting/codes.js';
import { DelayLevels } from '../../../src/store/delay-levels.js';

const nowMs = 1_700_000_000_000;
const hook = delayHook({ levels: new DelayLevels([1000, 5000, 10_000]), nowMs: () => nowMs });
const req: PutRequest = { reconsumeTimes: 0, maxReconsumeTimes: undefined };

function msg(props: Record<string, string>, over: Partial<PutMessage> = {}): PutMessage {
  return {
    topic: 'T',
    queueId: 3,
    flag: 0,
    body: Buffer.from('x'),
    properties: encodeProperties(props),
    sysFlag: 0,
    bornTimestamp: 1n,
    bornHost: '127.0.0.1:1',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: 42n,
    uniqKey: 'U1',
    scheduled: true,
    ...over,
  };
}

const propsOf = (m: PutMessage) =>
  decodeProperties(typeof m.properties === 'string' ? m.properties : m.properties.toString('utf8'));

test('DELAY 2 → SCHEDULE_TOPIC_XXXX queue 1, REAL_TOPIC/REAL_QID kept, tagsCode = now + 5 s, UNIQ_KEY kept', () => {
  const m = msg({ DELAY: '2', TAGS: 'a', UNIQ_KEY: 'U1' });
  assert.equal(hook.beforePut(m, req), undefined);
  assert.equal(m.topic, 'SCHEDULE_TOPIC_XXXX');
  assert.equal(m.queueId, 1);
  assert.equal(m.tagsCode, BigInt(nowMs + 5000));
  assert.equal(m.uniqKey, 'U1');
  assert.equal(m.scheduled, false, 'handled: the timer hook leaves it alone');
  const p = propsOf(m);
  assert.equal(p.get('REAL_TOPIC'), 'T');
  assert.equal(p.get('REAL_QID'), '3');
  assert.equal(p.get('DELAY'), '2');
  assert.equal(p.get('UNIQ_KEY'), 'U1');
  assert.equal(p.get('TAGS'), 'a');
});

test('a level above the last is clamped to it (queue and DELAY); batch items with byte properties too', () => {
  const m = msg({ DELAY: '99' }, { properties: Buffer.from(encodeProperties({ DELAY: '99' })) });
  assert.equal(hook.beforePut(m, req), undefined);
  assert.equal(m.queueId, 2);
  assert.equal(propsOf(m).get('DELAY'), '3');
  assert.equal(m.tagsCode, BigInt(nowMs + 10_000));
});

test('DELAY 0 or negative: not delayed (RocketMQ); no DELAY at all (a timer property only): left to the timer hook', () => {
  const cases: Record<string, string>[] = [{ DELAY: '0' }, { DELAY: '-1' }, { TIMER_DELAY_MS: '500' }];
  for (const props of cases) {
    const m = msg(props);
    const before = m.properties;
    assert.equal(hook.beforePut(m, req), undefined);
    assert.equal(m.topic, 'T');
    assert.equal(m.properties, before);
    assert.equal(m.tagsCode, 42n);
  }
});

test('DELAY wins over timer properties, which are removed (RocketMQ 5)', () => {
  const m = msg({
    DELAY: '1',
    TIMER_DELAY_MS: '500',
    TIMER_DELIVER_MS: '1',
    TIMER_DELAY_SEC: '3',
    __STARTDELIVERTIME: '9',
  });
  hook.beforePut(m, req);
  const p = propsOf(m);
  assert.equal(m.topic, 'SCHEDULE_TOPIC_XXXX');
  for (const k of ['TIMER_DELAY_MS', 'TIMER_DELIVER_MS', 'TIMER_DELAY_SEC', '__STARTDELIVERTIME'])
    assert.equal(p.has(k), false, k);
});

test('a DELAY that is not an integer is refused with MESSAGE_ILLEGAL naming it', () => {
  for (const bad of ['abc', '1.5', '', ' 2', '99999999999']) {
    const m = msg({ DELAY: bad });
    const r = hook.beforePut(m, req);
    assert.ok(r instanceof PutRefusal, bad);
    assert.equal(r.code, ResponseCode.MESSAGE_ILLEGAL);
    assert.match(r.remark, /DELAY/);
    assert.equal(m.topic, 'T');
  }
  assert.equal(delayLevelOf('+4'), 4);
  assert.equal(delayLevelOf('-2'), -2);
});

test('half messages, unmarked messages and a rolled-back type are left alone; a commit is delayed', () => {
  const cases: [Partial<PutMessage>, string][] = [
    [{ transactionPrepared: true }, 'T'],
    [{ sysFlag: SysFlag.transactionPreparedType }, 'T'],
    [{ sysFlag: SysFlag.transactionRollbackType }, 'T'],
    [{ scheduled: false }, 'T'],
    [{ scheduled: undefined }, 'T'],
    [{ sysFlag: SysFlag.transactionCommitType }, 'SCHEDULE_TOPIC_XXXX'],
  ];
  for (const [over, topic] of cases) {
    const m = msg({ DELAY: '1' }, over);
    hook.beforePut(m, req);
    assert.equal(m.topic, topic, JSON.stringify(over));
  }
});

test('a dead-lettered message is not delayed and loses its DELAY (RocketMQ: level 0 in the DLQ)', () => {
  const m = msg({ DELAY: '3', TAGS: 'a' }, { topic: '%DLQ%G', queueId: 0 });
  assert.equal(hook.beforePut(m, req), undefined);
  assert.equal(m.topic, '%DLQ%G');
  assert.equal(propsOf(m).has('DELAY'), false);
  assert.equal(propsOf(m).get('TAGS'), 'a');
});
