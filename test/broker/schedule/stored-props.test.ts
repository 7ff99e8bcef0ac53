/**
 * scanStoredProps, the one pass over a stored record's properties that the delay service and the timer wheel
 * share: a dropped pair is cut out with its separator wherever it stands, everything else is kept byte for byte,
 * and the names the conversions need are picked out whether or not they are dropped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanStoredProps } from '../../../src/broker/schedule/stored-props.js';
import { Prop } from '../../../src/common/properties.js';
import { encodeRecord } from '../../../src/common/record.js';

function recordWith(properties: string): Buffer {
  const msg = {
    topic: 'T',
    queueId: 0,
    flag: 0,
    body: Buffer.from('body'),
    properties,
    sysFlag: 0,
    bornTimestamp: 1n,
    bornHost: '1.2.3.4:5',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
  };
  return encodeRecord(msg, 0n, 0n, 2n, '1.2.3.4:5');
}

const pair = (name: string, value: string) => `${name}\u0001${value}`;

test('dropped pairs are cut out with their separator, first, between, last, with or without an end separator', () => {
  const a = pair('A', 'a');
  const d = pair('D', 'x');
  const e = pair('E', 'ü ✓');
  const dropped = new Set(['D', 'E']);
  const cases: [string, string][] = [
    [`${d}\u0002${a}\u0002`, `${a}\u0002`],
    [`${a}\u0002${d}\u0002`, `${a}\u0002`],
    [`${a}\u0002${d}`, `${a}\u0002`],
    [`${d}\u0002${a}`, a],
    [`${a}\u0002${d}\u0002${a}\u0002${e}\u0002${a}`, `${a}\u0002${a}\u0002${a}`],
    [`${d}\u0002${e}\u0002`, ''],
    [`${a}\u0002${a}\u0002`, `${a}\u0002${a}\u0002`],
    ['', ''],
  ];
  for (const [stored, kept] of cases) {
    assert.equal(scanStoredProps(recordWith(stored), dropped).kept, kept, JSON.stringify(stored));
  }
});

test('the names a conversion reads are picked out, dropped or kept', () => {
  const props = [
    pair(Prop.realTopic, 'Orders'),
    pair(Prop.realQueueId, '3'),
    pair(Prop.tags, 'TagA'),
    pair(Prop.keys, 'k1 k2'),
    pair(Prop.uniqKey, 'U1'),
    pair(Prop.timerOutMs, '1700000000000'),
    pair(Prop.timerDelUniqKey, 'Orders+U0'),
    pair('user', 'v'),
  ].join('\u0002');
  const s = scanStoredProps(recordWith(props), new Set([Prop.realTopic, Prop.timerOutMs]));
  assert.deepEqual(
    { ...s, kept: undefined },
    {
      kept: undefined,
      realTopic: 'Orders',
      realQueueId: '3',
      tags: 'TagA',
      keys: 'k1 k2',
      uniqKey: 'U1',
      timerOutMs: '1700000000000',
      timerDelUniqKey: 'Orders+U0',
    },
  );
  assert.ok(!s.kept.includes(`${Prop.realTopic}\u0001`));
  assert.ok(s.kept.includes(pair(Prop.realQueueId, '3')));
  assert.ok(s.kept.endsWith(pair('user', 'v')));
});
