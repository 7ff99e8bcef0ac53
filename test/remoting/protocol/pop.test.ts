import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RemotingCommand } from '../../../src/remoting/command.js';
import {
  decodeAckMessageHeader,
  decodeBatchAckBody,
  decodeBatchAckResponseHeader,
  decodeChangeInvisibleTimeHeader,
  decodeChangeInvisibleTimeResponseHeader,
  decodePopMessageHeader,
  decodePopMessageResponseHeader,
  encodeAckMessageHeader,
  encodeBatchAckBody,
  encodeBatchAckResponseHeader,
  encodeChangeInvisibleTimeHeader,
  encodeChangeInvisibleTimeResponseHeader,
  encodePopMessageHeader,
  encodePopMessageResponseHeader,
} from '../../../src/remoting/protocol/pop.js';

const cmd = (extFields: Record<string, string>) => ({ extFields }) as unknown as RemotingCommand;

test('POP_MESSAGE request and response headers round-trip', () => {
  const h = {
    consumerGroup: 'G',
    topic: 'T',
    queueId: -1,
    maxMsgNums: 32,
    invisibleTime: 60_000n,
    pollTime: 15_000n,
    bornTime: 1_700_000_000_000n,
    initMode: 1,
    expType: 'TAG',
    exp: 'a || b',
    order: true,
    attemptId: 'att-1',
  };
  assert.deepEqual(decodePopMessageHeader(cmd(encodePopMessageHeader(h))), h);
  const r = {
    popTime: 5,
    invisibleTime: 60_000,
    reviveQid: 3,
    restNum: 7,
    startOffsetInfo: '0 0 1',
    msgOffsetInfo: '0 0 1,2',
    orderCountInfo: undefined,
  };
  assert.deepEqual(decodePopMessageResponseHeader(cmd(encodePopMessageResponseHeader(r))), r);
  assert.throws(() => decodePopMessageHeader(cmd({ topic: 'T' })), /consumerGroup/);
});

test('ACK_MESSAGE and CHANGE_MESSAGE_INVISIBLETIME headers round-trip', () => {
  const a = { consumerGroup: 'G', topic: 'T', queueId: 1, extraInfo: '0 1 2 3 0 b 1 4', offset: 4n };
  assert.deepEqual(decodeAckMessageHeader(cmd(encodeAckMessageHeader(a))), a);
  const c = { ...a, invisibleTime: 5000n };
  assert.deepEqual(decodeChangeInvisibleTimeHeader(cmd(encodeChangeInvisibleTimeHeader(c))), c);
  const cr = { popTime: 9, invisibleTime: 5000, reviveQid: 2 };
  assert.deepEqual(decodeChangeInvisibleTimeResponseHeader(cmd(encodeChangeInvisibleTimeResponseHeader(cr))), cr);
});

test('BATCH_ACK body: our encoding round-trips; a fastjson one (long names, BitSet bytes in base64) is read', () => {
  const ack = {
    consumerGroup: 'G',
    topic: 'T',
    retry: true,
    startOffset: 10n,
    queueId: 0,
    reviveQueueId: 2,
    popTime: 123,
    invisibleTime: 1000,
    offsets: [10n, 12n, 19n],
  };
  const d = decodeBatchAckBody(encodeBatchAckBody({ brokerName: 'b', acks: [ack] }));
  assert.deepEqual(d, { ok: true, body: { brokerName: 'b', acks: [ack] } });
  // bits 0 and 9: BitSet#toByteArray = [0x01, 0x02]
  const java = `{"acks":[{"consumerGroup":"G","topic":"T","retry":"0","startOffset":5,"queueId":1,"reviveQueueId":0,"popTime":7,"invisibleTime":2000,"bitSet":"${Buffer.from([1, 2]).toString('base64')}"}],"brokerName":"b"}`;
  const j = decodeBatchAckBody(Buffer.from(java));
  assert.ok(j.ok);
  assert.deepEqual(j.body.acks[0]?.offsets, [5n, 14n]);
  assert.equal(j.body.acks[0]?.retry, false);
  for (const [body, re] of [
    [undefined, /no body/],
    ['{', /not JSON/],
    ['[]', /no "acks"/],
    ['{"acks":[{"c":"G"}]}', /acks\[0\]\.t/],
    ['{"acks":[{"c":"G","t":"T","so":1,"q":0,"rq":0,"pt":1,"it":1}]}', /acks\[0\]\.b/],
  ] as const) {
    const r = decodeBatchAckBody(body === undefined ? undefined : Buffer.from(body));
    assert.ok(!r.ok);
    assert.match(r.error, re);
  }
});

test('batch-ack answer: expiredInfo round trip; absent = none expired; a malformed one is named', () => {
  const expired = [
    { ack: 0, offsets: [3n, 5n] },
    { ack: 2, offsets: [40n] },
  ];
  const fields = encodeBatchAckResponseHeader({ expired });
  assert.deepEqual(fields, { expiredInfo: '0 3,5;2 40' });
  assert.deepEqual(decodeBatchAckResponseHeader(cmd(fields)), { expired });
  assert.deepEqual(decodeBatchAckResponseHeader({} as RemotingCommand), { expired: [] });
  assert.match(String(decodeBatchAckResponseHeader(cmd({ expiredInfo: '0 x' }))), /is not "ackIndex o1,o2,…"/);
});

test('BATCH_ACK body: the hand-written encoder gives the JSON text of the object form, names quoted and escaped', () => {
  const acks = [
    {
      consumerGroup: 'G"q\\',
      topic: '%RETRY%G_T',
      retry: false,
      startOffset: 9_007_199_254_740_000n,
      queueId: 3,
      reviveQueueId: 7,
      popTime: 1_700_000_000_123,
      invisibleTime: 60_000,
      offsets: [9_007_199_254_740_000n, 9_007_199_254_740_031n],
    },
    { ...acks0(), offsets: [5n] },
  ];
  const objectForm = {
    acks: acks.map((a) => ({
      c: a.consumerGroup,
      t: a.topic,
      r: a.retry ? '1' : '0',
      so: Number(a.startOffset),
      q: a.queueId,
      rq: a.reviveQueueId,
      pt: a.popTime,
      it: a.invisibleTime,
      b: a.offsets.length === 1 ? 'AQ==' : Buffer.from([1, 0, 0, 0x80]).toString('base64'),
    })),
    brokerName: 'broker-a',
  };
  const text = encodeBatchAckBody({ brokerName: 'broker-a', acks }).toString();
  assert.equal(text, JSON.stringify(objectForm));
  const d = decodeBatchAckBody(Buffer.from(text));
  assert.ok(d.ok);
  assert.deepEqual(d.body.acks, acks);
});

function acks0() {
  return {
    consumerGroup: 'G',
    topic: 'T',
    retry: true,
    startOffset: 5n,
    queueId: 0,
    reviveQueueId: 0,
    popTime: 1,
    invisibleTime: 1000,
  };
}
