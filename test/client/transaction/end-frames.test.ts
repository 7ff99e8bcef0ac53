import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EndFrameEncoder, type EndFrameFields } from '../../../src/client/transaction/end-frames.js';
import { decodeFrame, encodeFrameParts, FrameDecoder } from '../../../src/remoting/codec.js';
import { RequestCode } from '../../../src/remoting/codes.js';
import { createRequest, Flag, isOneway, SerializeType } from '../../../src/remoting/command.js';
import {
  decodeEndTransactionHeader,
  EndTransactionType,
  encodeEndTransactionHeader,
} from '../../../src/remoting/protocol/transaction.js';

/** The frame the generic encoder writes for the same END_TRANSACTION (as the SDK's one-request path sends it). */
function genericFrame(group: string, e: EndFrameFields, opaque: number): Buffer {
  const req = createRequest(
    RequestCode.END_TRANSACTION,
    encodeEndTransactionHeader({ producerGroup: group, fromTransactionCheck: false, ...e }),
  );
  req.serializeType = SerializeType.rocketmq;
  return Buffer.concat(encodeFrameParts({ ...req, opaque, flag: req.flag | Flag.oneway }));
}

const ends: EndFrameFields[] = [
  {
    tranStateTableOffset: 0n,
    commitLogOffset: 0n,
    commitOrRollback: EndTransactionType.commit,
    msgId: '7F00000100002A9F0000000000000001',
    transactionId: '7F00000100002A9F0000000000000001',
    topic: 'TopicA',
  },
  {
    tranStateTableOffset: 9_007_199_254_740_993n,
    commitLogOffset: 9_223_372_036_854_775_807n,
    commitOrRollback: EndTransactionType.rollback,
    msgId: 'AC1100020000000000000000000000FF',
    transactionId: 'tx-ü-€-𝄞',
    topic: '%RETRY%ä_topic',
  },
];

test('END_TRANSACTION frames from the template are byte for byte those of the generic encoder', () => {
  for (const group of ['PID_tx', 'PID_群组_ü']) {
    const bytes = new EndFrameEncoder(group).encode(ends);
    const frames = new FrameDecoder().push(bytes);
    assert.equal(frames.length, ends.length);
    let at = 0;
    for (let i = 0; i < ends.length; i++) {
      const cmd = decodeFrame(frames[i] as Buffer);
      const expected = genericFrame(group, ends[i] as EndFrameFields, cmd.opaque);
      assert.deepEqual(bytes.subarray(at, at + expected.length), expected);
      at += expected.length;
      assert.equal(cmd.code, RequestCode.END_TRANSACTION);
      assert.ok(isOneway(cmd));
      assert.deepEqual(decodeEndTransactionHeader(cmd), {
        producerGroup: group,
        fromTransactionCheck: false,
        ...ends[i],
      });
    }
    assert.equal(at, bytes.length);
  }
});

test('each END_TRANSACTION frame gets its own opaque', () => {
  const frames = new FrameDecoder().push(new EndFrameEncoder('PID_tx').encode([...ends, ...ends]));
  const opaques = new Set(frames.map((f) => decodeFrame(f).opaque));
  assert.equal(opaques.size, 4);
});

test('no ends make no bytes', () => {
  assert.equal(new EndFrameEncoder('PID_tx').encode([]).length, 0);
});
