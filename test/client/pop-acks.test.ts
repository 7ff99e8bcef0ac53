/** PopAcks: acks of one event-loop turn go to a broker as one batch ack, one entry per check point. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PendingAck, type PopAckSender, PopAcks } from '../../src/client/pop-acks.js';
import type { AckAnswer, BatchAckAnswer } from '../../src/client/pop-api.js';
import type { BatchAck } from '../../src/remoting/protocol/pop.js';
import { type PopExtraInfo, PopRetryMark } from '../../src/remoting/protocol/pop-extra-info.js';

interface Sent {
  singles: Array<{ addr: string; offset: bigint }>;
  batches: Array<{ addr: string; brokerName: string; acks: BatchAck[] }>;
}

/** Records what is sent; answers batches with `answer(acks)`. */
function recorder(answer: (acks: BatchAck[]) => BatchAckAnswer = () => ({ status: 'ok', expired: [] })) {
  const sent: Sent = { singles: [], batches: [] };
  const sender: PopAckSender = {
    single: async (addr: string, a: PendingAck): Promise<AckAnswer> => {
      sent.singles.push({ addr, offset: a.info.queueOffset });
      return { status: 'ok' };
    },
    batch: async (addr: string, brokerName: string, acks: BatchAck[]) => {
      sent.batches.push({ addr, brokerName, acks });
      return answer(acks);
    },
  };
  return { sent, acks: new PopAcks('g', sender) };
}

function pending(queueOffset: bigint, over: Partial<PopExtraInfo> = {}) {
  const info: PopExtraInfo = {
    ckOffset: 10n,
    popTimeMs: 1000,
    invisibleTimeMs: 30_000,
    reviveQid: 1,
    retry: PopRetryMark.none,
    brokerName: 'b',
    queueId: 0,
    queueOffset,
    ...over,
  };
  return { info, topic: 'T', extraInfo: '' };
}

test('acks of one turn are one batch per broker, one entry per check point', async () => {
  const { sent, acks } = recorder();
  const answers = await Promise.all([
    acks.add('a:1', pending(10n)),
    acks.add('a:1', pending(12n)),
    acks.add('a:1', pending(40n, { ckOffset: 40n, popTimeMs: 2000 })),
  ]);
  assert.deepEqual(answers, [{ status: 'ok' }, { status: 'ok' }, { status: 'ok' }]);
  assert.equal(sent.singles.length, 0);
  assert.equal(sent.batches.length, 1);
  assert.deepEqual(
    sent.batches[0]?.acks.map((a) => [a.startOffset, a.popTime, a.offsets]),
    [
      [10n, 1000, [10n, 12n]],
      [40n, 2000, [40n]],
    ],
  );
});

test('the offsets a broker names as too late fail, the others are acked', async () => {
  const { acks } = recorder(() => ({ status: 'ok', expired: [{ ack: 0, offsets: [11n] }] }));
  const answers = await Promise.all([10n, 11n, 12n].map((o) => acks.add('a:1', pending(o))));
  assert.deepEqual(
    answers.map((a) => a.status),
    ['ok', 'gone', 'ok'],
  );
});

test('a lone ack, a v2 retry handle and a broker without batch ack go as single acks', async () => {
  const { sent, acks } = recorder(() => ({ status: 'unsupported' }));
  await acks.add('a:1', pending(10n));
  assert.deepEqual(sent.singles, [{ addr: 'a:1', offset: 10n }]);
  await Promise.all([acks.add('a:1', pending(11n)), acks.add('a:1', pending(12n, { retry: PopRetryMark.v2 }))]);
  assert.equal(sent.batches.length, 0, 'one batchable ack left: no batch');
  await Promise.all([acks.add('a:1', pending(13n)), acks.add('a:1', pending(14n))]);
  assert.equal(sent.batches.length, 1);
  await Promise.all([acks.add('a:1', pending(15n)), acks.add('a:1', pending(16n))]);
  assert.equal(sent.batches.length, 1, 'no batch again once the broker refused the request');
  assert.deepEqual(sent.singles.map((s) => s.offset).sort(), [10n, 11n, 12n, 13n, 14n, 15n, 16n]);
});

test('the same message twice in one turn: exactly one ack of it is in the batch', async () => {
  const { sent, acks } = recorder();
  await Promise.all([acks.add('a:1', pending(10n)), acks.add('a:1', pending(10n)), acks.add('a:1', pending(11n))]);
  assert.deepEqual(sent.batches[0]?.acks[0]?.offsets, [10n, 11n]);
  assert.deepEqual(sent.singles, [{ addr: 'a:1', offset: 10n }]);
});

test('addAll: one call settles with an outcome per ack, in order; a failed request fails only its acks', async () => {
  const sender: PopAckSender = {
    single: async (): Promise<AckAnswer> => ({ status: 'ok' }),
    batch: async (addr: string): Promise<BatchAckAnswer> => {
      if (addr === 'down:1') throw new Error('connection refused');
      return { status: 'ok', expired: [{ ack: 0, offsets: [11n] }] };
    },
  };
  const acks = new PopAcks('g', sender);
  const out = await acks.addAll(
    ['a:1', 'down:1', 'a:1', 'down:1'],
    [pending(10n), pending(10n), pending(11n), pending(11n)],
  );
  assert.deepEqual(
    out.map((o) => o.status),
    ['ok', 'failed', 'gone', 'failed'],
  );
  assert.deepEqual(await acks.addAll([], []), []);
});

test('acks naming one shared check-point object are one entry without a text key; a message twice still goes alone', async () => {
  const { sent, acks } = recorder();
  const ck = {};
  const other = {};
  await Promise.all([
    acks.add('a:1', { ...pending(10n), checkPoint: ck }),
    acks.add('a:1', { ...pending(41n), checkPoint: ck }),
    acks.add('a:1', { ...pending(41n), checkPoint: ck }),
    acks.add('a:1', { ...pending(12n, { popTimeMs: 3000 }), checkPoint: other }),
  ]);
  assert.deepEqual(
    sent.batches[0]?.acks.map((a) => [a.popTime, a.offsets]),
    [
      [1000, [10n, 41n]],
      [3000, [12n]],
    ],
  );
  assert.deepEqual(sent.singles, [{ addr: 'a:1', offset: 41n }]);
});
