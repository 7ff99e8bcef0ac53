/** A POP answer's records become messages with receipt handles and delivery attempts (processPopResponse). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtHandleOf, checkPointOf, decodePopped, type PoppedMessage } from '../../src/client/popped-message.js';
import { encodeProperties } from '../../src/common/properties.js';
import { encodeRecord } from '../../src/common/record.js';
import type { PopMessageResponseHeader } from '../../src/remoting/protocol/pop.js';
import { parseExtraInfo } from '../../src/remoting/protocol/pop-extra-info.js';
import type { MessageInput } from '../../src/store/types.js';

function record(topic: string, queueId: number, offset: bigint, over: Partial<MessageInput> = {}): Buffer {
  const input: MessageInput = {
    topic,
    queueId,
    flag: 0,
    body: Buffer.from(`m${offset}`),
    properties: encodeProperties({ TAGS: 'a', UNIQ_KEY: `${'AB'.repeat(15)}${String(offset).padStart(2, '0')}` }),
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000n,
    bornHost: '10.0.0.1:5000',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: 0n,
    ...over,
  };
  return encodeRecord(input, offset, 1000n + offset, 1_700_000_000_001n, '127.0.0.1:10911');
}

const header = (over: Partial<PopMessageResponseHeader> = {}): PopMessageResponseHeader => ({
  popTime: 1000,
  invisibleTime: 60_000,
  reviveQid: 2,
  restNum: 0,
  ...over,
});
const noBad = (pos: number, err: unknown) => assert.fail(`record at ${pos} undecodable: ${String(err)}`);

function decode(body: Buffer, h: PopMessageResponseHeader, fifo = false): PoppedMessage[] {
  const r = decodePopped(body, 'T', 'b0', h, fifo, noBad);
  assert.ok(Array.isArray(r), String(r));
  return r;
}

test('handles come from the offset lists; a revived message reports its topic and its second attempt', () => {
  const retried = record('%RETRY%g_T', 0, 5n, {
    reconsumeTimes: 1,
    properties: encodeProperties({ RETRY_TOPIC: 'T', UNIQ_KEY: 'CD'.repeat(16) }),
  });
  const body = Buffer.concat([record('T', 1, 10n), record('T', 1, 11n), record('T', 1, 13n), retried]);
  const msgs = decode(body, header({ startOffsetInfo: '0 1 10;1 0 5', msgOffsetInfo: '0 1 10,11,13;1 0 5' }));
  assert.deepEqual(
    msgs.map((m) => m.receiptHandle),
    ['10 1000 60000 2 0 b0 1 10', '10 1000 60000 2 0 b0 1 11', '10 1000 60000 2 0 b0 1 13', '5 1000 60000 2 1 b0 0 5'],
  );
  assert.deepEqual(
    msgs.map((m) => m.deliveryAttempt),
    [1, 1, 1, 2],
  );
  assert.deepEqual(
    msgs.map((m) => m.topic),
    ['T', 'T', 'T', 'T'],
  );
  assert.equal(msgs[3]?.sourceTopic, '%RETRY%g_T');
  assert.equal(msgs[0]?.brokerName, 'b0');
  // JSON of a BigInt-carrying message: its toJSON object, read directly.
  const json = (msgs[1] as unknown as { toJSON(): Record<string, unknown> }).toJSON();
  assert.equal(json['receiptHandle'], '10 1000 60000 2 0 b0 1 11');
  assert.equal(json['deliveryAttempt'], 1);
});

test('without offset lists (older brokers) the first message of a queue starts its check point', () => {
  const msgs = decode(Buffer.concat([record('T', 0, 7n), record('T', 0, 8n), record('T', 3, 2n)]), header());
  assert.deepEqual(
    msgs.map((m) => m.receiptHandle),
    ['7 1000 60000 2 0 b0 0 7', '7 1000 60000 2 0 b0 0 8', '2 1000 60000 2 0 b0 3 2'],
  );
});

test('FIFO: delivery counts of orderCountInfo, per offset before per queue', () => {
  const body = Buffer.concat([record('T', 1, 10n), record('T', 1, 11n)]);
  const h = header({
    reviveQid: 999,
    startOffsetInfo: '0 1 10',
    msgOffsetInfo: '0 1 10,11',
    orderCountInfo: '0 1 2;0 qo1%11 4',
  });
  assert.deepEqual(
    decode(body, h, true).map((m) => m.deliveryAttempt),
    [3, 5],
  );
  assert.deepEqual(
    decode(body, h, false).map((m) => m.deliveryAttempt),
    [1, 1],
  );
});

test("a broker's own POP_CK on a revived message is its handle", () => {
  const ck = '4 900 30000 1 1 b0 0 4';
  const body = record('T', 0, 4n, {
    reconsumeTimes: 2,
    properties: encodeProperties({ POP_CK: ck, RETRY_TOPIC: 'T', UNIQ_KEY: 'EF'.repeat(16) }),
  });
  const [m] = decode(body, header({ startOffsetInfo: '1 0 4', msgOffsetInfo: '1 0 4' }));
  assert.equal(m?.receiptHandle, ck);
  assert.equal(m?.deliveryAttempt, 3);
});

test('malformed offset lists are reported, not thrown', () => {
  const body = record('T', 0, 1n);
  assert.match(
    String(decodePopped(body, 'T', 'b0', header({ startOffsetInfo: '0 0' }), false, noBad)),
    /startOffsetInfo/,
  );
  assert.match(
    String(decodePopped(body, 'T', 'b0', header({ msgOffsetInfo: '0 0 1;0 0 2' }), false, noBad)),
    /msgOffsetInfo/,
  );
});

test('the handle decodePopped built is read without parsing, and only while it is still the receipt handle', () => {
  const body = Buffer.concat([record('T', 1, 10n), record('T', 1, 12n), record('%RETRY%g_T', 0, 5n)]);
  const msgs = decode(body, header({ startOffsetInfo: '0 1 10;1 0 5', msgOffsetInfo: '0 1 10,12;1 0 5' }));
  for (const m of msgs) {
    const parsed = parseExtraInfo(m.receiptHandle);
    assert.ok(typeof parsed !== 'string', String(parsed));
    assert.deepEqual(builtHandleOf(m), parsed);
  }
  const [m] = msgs as [PoppedMessage];
  m.receiptHandle = '10 2000 30000 1 0 b0 1 10';
  assert.equal(builtHandleOf(m), undefined, 'a replaced handle is parsed again');
});

test('messages of one queue share one check-point object (acks group by it) while their handles are the built ones', () => {
  const body = Buffer.concat([record('T', 1, 10n), record('T', 1, 12n), record('%RETRY%g_T', 0, 5n)]);
  const msgs = decode(body, header({ startOffsetInfo: '0 1 10;1 0 5', msgOffsetInfo: '0 1 10,12;1 0 5' }));
  const [a, b, c] = msgs as [PoppedMessage, PoppedMessage, PoppedMessage];
  assert.ok(checkPointOf(a) !== undefined);
  assert.equal(checkPointOf(a), checkPointOf(b));
  assert.notEqual(checkPointOf(a), checkPointOf(c));
  b.receiptHandle = '12 2000 30000 1 0 b0 1 12';
  assert.equal(checkPointOf(b), undefined);
});
