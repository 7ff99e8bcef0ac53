/**
 * END_TRANSACTION (37) on a broker: the half message is found by commitLogOffset and must match group and
 * offsets; commit delivers it to its real topic, rollback delivers nothing; both write an op record.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkCopyOf } from '../../../src/broker/transaction/half-message.js';
import { decodeOffsetMsgId, decodeRecord, decodeRecords } from '../../../src/common/record.js';
import { SystemTopic } from '../../../src/common/topics.js';
import { RequestCode, ResponseCode } from '../../../src/remoting/codes.js';
import { EndTransactionType, encodeEndTransactionHeader } from '../../../src/remoting/protocol/transaction.js';
import { call, createTopic, type Harness, pull, sendV2, startHarness } from '../helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness({ autoCreateTopicEnable: false, transactionCheckInterval: 3_600_000 });
  await createTopic(h, 'TXB', 2);
});
after(() => h.close());

async function sendHalf(body: string, props: Record<string, string> = {}) {
  const r = await sendV2(h, 'TXB', body, { TRAN_MSG: 'true', PGROUP: 'pg', UNIQ_KEY: `U-${body}`, ...props }, 1);
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  const f = r.extFields ?? {};
  return {
    msgId: `U-${body}`,
    commitLogOffset: decodeOffsetMsgId(f['msgId'] as string).commitLogOffset,
    tranStateTableOffset: BigInt(f['queueOffset'] as string),
  };
}

function end(
  half: { msgId: string; commitLogOffset: bigint; tranStateTableOffset: bigint },
  type: EndTransactionType,
  over: Record<string, string> = {},
) {
  const fields = {
    ...encodeEndTransactionHeader({
      producerGroup: 'pg',
      tranStateTableOffset: half.tranStateTableOffset,
      commitLogOffset: half.commitLogOffset,
      commitOrRollback: type,
      fromTransactionCheck: false,
      msgId: half.msgId,
    }),
    ...over,
  };
  return call(h, RequestCode.END_TRANSACTION, fields, undefined, 1000);
}

const opCount = () => h.store.getMaxOffsetInQueue(SystemTopic.transOpHalf, 0);

test('a half message is stored in the half topic and invisible in its real queue', async () => {
  const before = h.store.getMaxOffsetInQueue(SystemTopic.transHalf, 0);
  await sendHalf('invisible');
  assert.equal(h.store.getMaxOffsetInQueue('TXB', 1), 0n);
  assert.equal(h.store.getMaxOffsetInQueue(SystemTopic.transHalf, 0), before + 1n);
});

test('commit puts the message in its real queue, without REAL_* and TRAN_MSG, typed COMMIT; an op record follows', async () => {
  const half = await sendHalf('to-commit', { TAGS: 'tagA', KEYS: 'k1 k2' });
  const ops = opCount();
  const r = await end(half, EndTransactionType.commit);
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  assert.equal(opCount(), ops + 1n);
  const got = await pull(h, 'TXB', 1, 0);
  assert.equal(got.code, ResponseCode.SUCCESS);
  const [m] = decodeRecords(got.body as Buffer);
  assert.ok(m !== undefined);
  assert.equal(m.body.toString(), 'to-commit');
  assert.equal(m.topic, 'TXB');
  assert.equal(m.queueId, 1);
  assert.equal(m.sysFlag & 0xc, 0x8);
  assert.equal(m.preparedTransactionOffset, half.commitLogOffset);
  assert.equal(m.properties.get('REAL_TOPIC'), undefined);
  assert.equal(m.properties.get('REAL_QID'), undefined);
  assert.equal(m.properties.get('TRAN_MSG'), undefined);
  assert.equal(m.properties.get('TAGS'), 'tagA');
  assert.equal(m.properties.get('UNIQ_KEY'), 'U-to-commit');
});

test('rollback delivers nothing and writes an op record naming the half queue offset', async () => {
  const half = await sendHalf('to-rollback');
  const before = h.store.getMaxOffsetInQueue('TXB', 1);
  const ops = opCount();
  const r = await end(half, EndTransactionType.rollback);
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  assert.equal(h.store.getMaxOffsetInQueue('TXB', 1), before);
  const op = await h.store.getMessage(SystemTopic.transOpHalf, 0, ops, 1, 1 << 20);
  const [rec] = decodeRecords(op.records[0] as Buffer);
  assert.equal(rec?.body.toString(), String(half.tranStateTableOffset));
  assert.equal(rec?.properties.get('TAGS'), 'd');
});

test('wrong group, wrong offsets, a record that is not a half message, or none: SYSTEM_ERROR, nothing stored', async () => {
  const half = await sendHalf('checked');
  const ops = opCount();
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ producerGroup: 'other' }, /The producer group wrong/],
    [{ tranStateTableOffset: String(half.tranStateTableOffset + 1n) }, /The transaction state table offset wrong/],
    [{ commitLogOffset: '999999999' }, /Find prepared transaction message failed/],
  ];
  for (const [over, remark] of cases) {
    const r = await end(half, EndTransactionType.commit, over);
    assert.equal(r.code, ResponseCode.SYSTEM_ERROR, JSON.stringify(over));
    assert.match(r.remark ?? '', remark);
  }
  const plain = await sendV2(h, 'TXB', 'plain', {}, 0);
  const plainOffset = decodeOffsetMsgId(plain.extFields?.['msgId'] as string).commitLogOffset;
  const r = await end({ ...half, commitLogOffset: plainOffset }, EndTransactionType.commit);
  assert.equal(r.code, ResponseCode.SYSTEM_ERROR);
  assert.match(r.remark ?? '', /not a half message/);
  const bad = await end(half, EndTransactionType.commit, { commitOrRollback: '4' });
  assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
  assert.match(bad.remark ?? '', /commitOrRollback/);
  assert.equal(opCount(), ops);
  assert.equal(h.store.getMaxOffsetInQueue('TXB', 1), 1n, 'only the commit of the earlier test');
});

test('commitOrRollback 0 (unknown) is left to the check service: nothing written (a two-way caller is answered)', async () => {
  const half = await sendHalf('unknown');
  const ops = opCount();
  const r = await end(half, EndTransactionType.unknown);
  assert.equal(r.code, ResponseCode.SUCCESS);
  assert.match(r.remark ?? '', /unknown/);
  assert.equal(opCount(), ops);
  assert.equal(h.store.getMaxOffsetInQueue('TXB', 1), 1n);
});

test('the first answer decides: a commit for a check copy after the commit of the original delivers nothing more', async () => {
  const half = await sendHalf('copied');
  // What a check pass does: the half message appended again, naming its first offset.
  const original = decodeRecord((await h.store.lookMessageByOffset(half.commitLogOffset)) as Buffer).msg;
  const put = await h.store.putMessage(checkCopyOf(original, 1));
  const copy = { msgId: half.msgId, commitLogOffset: put.wroteOffset, tranStateTableOffset: put.queueOffset };
  const delivered = h.store.getMaxOffsetInQueue('TXB', 1);
  const ops = opCount();
  assert.equal((await end(half, EndTransactionType.commit)).code, ResponseCode.SUCCESS);
  const late = await end(copy, EndTransactionType.commit);
  assert.equal(late.code, ResponseCode.SUCCESS, late.remark);
  assert.equal(h.store.getMaxOffsetInQueue('TXB', 1), delivered + 1n, 'committed once');
  assert.equal(opCount(), ops + 2n, 'both copies closed');
  // And a rollback that came first wins over a later commit.
  const second = await sendHalf('rolled-then-committed');
  const orig2 = decodeRecord((await h.store.lookMessageByOffset(second.commitLogOffset)) as Buffer).msg;
  const put2 = await h.store.putMessage(checkCopyOf(orig2, 1));
  assert.equal((await end(second, EndTransactionType.rollback)).code, ResponseCode.SUCCESS);
  const copy2 = { msgId: second.msgId, commitLogOffset: put2.wroteOffset, tranStateTableOffset: put2.queueOffset };
  assert.equal((await end(copy2, EndTransactionType.commit)).code, ResponseCode.SUCCESS);
  assert.equal(h.store.getMaxOffsetInQueue('TXB', 1), delivered + 1n, 'the rollback decided');
});
