/**
 * The transaction check pass on a store: op records close half messages (and every copy of them), open ones older
 * than the timeout are copied and checked with a live producer of their group, the budget ends in a rollback,
 * and the pass's progress (half and op offsets of CID_RMQ_SYS_TRANS) keeps what later passes still need.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ClientManager } from '../../../src/broker/clients/client-manager.js';
import { ConsumerOffsetManager } from '../../../src/broker/metadata/consumer-offsets.js';
import { toHalf } from '../../../src/broker/put/transaction-hook.js';
import type { PutMessage } from '../../../src/broker/put/types.js';
import { TransactionCheckService } from '../../../src/broker/transaction/check-service.js';
import { ClosedHalves } from '../../../src/broker/transaction/closed-halves.js';
import { opRecordOf } from '../../../src/broker/transaction/half-message.js';
import { createLogger } from '../../../src/common/log.js';
import { encodeProperties } from '../../../src/common/properties.js';
import { decodeRecord } from '../../../src/common/record.js';
import { RequestCode } from '../../../src/remoting/codes.js';
import type { RemotingCommand } from '../../../src/remoting/command.js';
import { decodeCheckTransactionStateHeader } from '../../../src/remoting/protocol/transaction.js';
import type { RemotingConnection } from '../../../src/remoting/server.js';
import { createMessageStore, type MessageStore } from '../../../src/store/index.js';

const half = 'RMQ_SYS_TRANS_HALF_TOPIC';
const op = 'RMQ_SYS_TRANS_OP_HALF_TOPIC';
const group = 'CID_RMQ_SYS_TRANS';

let dir: string;
let store: MessageStore;
let offsets: ConsumerOffsetManager;
const clients = new ClientManager();
const sent: RemotingCommand[] = [];
const conn = {
  id: 1,
  remoteAddress: '127.0.0.1:1',
  closed: false,
  send() {},
  invoke: () => Promise.reject(new Error('unused')),
  invokeOneway(req: RemotingCommand) {
    sent.push(req);
  },
  close() {},
  onClose() {},
} as RemotingConnection & { closed: boolean };
const config = { transactionTimeOut: 6000, transactionCheckMax: 2 };
let service: TransactionCheckService;
const closed = new ClosedHalves();

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-txcheck-'));
  store = createMessageStore({ storePathRootDir: dir }, { kind: 'memory' });
  await store.start();
  offsets = new ConsumerOffsetManager(dir);
  clients.registerProducer('pg', { clientId: 'c1', conn, language: 'JAVA', version: 0, lastUpdateMs: Date.now() });
  service = new TransactionCheckService({
    config,
    store,
    putRewritten: (m) => store.putMessage(m),
    offsets,
    clients,
    closedHalves: closed,
    brokerAddr: () => '127.0.0.1:10911',
    log: createLogger('test'),
  });
});
after(async () => {
  await store.shutdown();
  await rm(dir, { recursive: true, force: true });
});

async function putHalf(body: string, bornMs: number): Promise<void> {
  const m: PutMessage = {
    topic: 'Orders',
    queueId: 2,
    flag: 0,
    body: Buffer.from(body),
    properties: encodeProperties({ TRAN_MSG: 'true', PGROUP: 'pg', UNIQ_KEY: `U-${body}` }),
    sysFlag: 0x4,
    bornTimestamp: BigInt(bornMs),
    bornHost: '127.0.0.1:2',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: 0n,
  };
  toHalf(m);
  assert.equal((await store.putMessage(m)).status, 'PUT_OK');
}

const checksSent = () => sent.filter((r) => r.code === RequestCode.CHECK_TRANSACTION_STATE);

test('a pass: closed ones skipped, old open ones copied and checked as their real topic, young ones wait', async () => {
  const now = Date.now();
  await putHalf('h0', now - 10_000);
  await putHalf('h1', now - 10_000);
  await putHalf('h2', now - 10_000);
  await putHalf('young', now);
  await store.putMessage(opRecordOf([0n], '127.0.0.1:1'));
  const r = await service.runPass(Date.now() + 1);
  assert.deepEqual(r, { checked: 2, discarded: 0, requeued: 0, done: 1, noProducer: 0 });
  assert.equal(offsets.query(group, half, 0), 3n, 'stopped at the young one');
  assert.equal(store.getMaxOffsetInQueue(half, 0), 6n, 'two copies appended');
  const [c1, c2] = checksSent();
  const h1 = decodeCheckTransactionStateHeader(c1 as RemotingCommand);
  assert.equal(h1.tranStateTableOffset, 4n, 'the copy is what the producer answers for');
  assert.equal(h1.msgId, 'U-h1');
  assert.equal(h1.transactionId, 'U-h1');
  const body = decodeRecord((c1 as RemotingCommand).body as Buffer).msg;
  assert.equal(body.topic, 'Orders');
  assert.equal(body.queueId, 2);
  assert.equal(body.commitLogOffset, h1.commitLogOffset);
  assert.equal(body.properties.get('TRANSACTION_CHECK_TIMES'), '1');
  assert.equal(body.properties.get('TRAN_PREPARED_QUEUE_OFFSET'), '1');
  assert.equal(decodeCheckTransactionStateHeader(c2 as RemotingCommand).tranStateTableOffset, 5n);
});

test('an op record naming a copy closes it and its original; the op offset keeps what copies still need', async () => {
  // The producer answered for h1's copy (4): the op names the copy and the first offset.
  await store.putMessage(opRecordOf([4n, 1n], '127.0.0.1:1'));
  sent.length = 0;
  const r = await service.runPass(Date.now() + 10_000);
  // young (3) is old now: checked; copy 4 closed; copy 5 (h2) checked again.
  assert.deepEqual(r, { checked: 2, discarded: 0, requeued: 0, done: 1, noProducer: 0 });
  assert.ok(closed.has(1n) && closed.has(4n), 'op offsets known to END_TRANSACTION');
  assert.equal(offsets.query(group, half, 0), 6n);
  // op 0 ([0]) is behind everything still open; op 1 ([4, 1]) is not passed yet (copy of h2's origin is 2).
  assert.equal(offsets.query(group, op, 0), 1n);
  const again = checksSent().map((c) => decodeRecord(c.body as Buffer).msg);
  assert.deepEqual(again.map((m) => m.properties.get('UNIQ_KEY')).sort(), ['U-h2', 'U-young']);
  assert.equal(
    again.find((m) => m.properties.get('UNIQ_KEY') === 'U-h2')?.properties.get('TRANSACTION_CHECK_TIMES'),
    '2',
  );
});

test('no live producer: still counted; past transactionCheckMax: rolled back with an op record', async () => {
  conn.closed = true;
  sent.length = 0;
  const r = await service.runPass(Date.now() + 20_000);
  // h2 (times 2 = max) is rolled back; young (times 1) copied with nobody to ask.
  assert.deepEqual(r, { checked: 0, discarded: 1, requeued: 0, done: 0, noProducer: 1 });
  assert.equal(checksSent().length, 0);
  const ops = await store.getMessage(op, 0, 2n, 8, 1 << 20);
  assert.equal(decodeRecord(ops.records[0] as Buffer).msg.body.toString(), '7,2');
  conn.closed = false;
});

test('a rollback whose op record the store refuses is retried by the next pass, not left claimed', async () => {
  const failing = new TransactionCheckService({
    config: { transactionTimeOut: 6000, transactionCheckMax: 0 },
    store,
    putRewritten: async (m) =>
      m.topic === op
        ? {
            status: 'SERVICE_NOT_AVAILABLE',
            wroteOffset: 0n,
            wroteBytes: 0,
            queueOffset: 0n,
            msgNum: 0,
            storeTimestamp: 0n,
            offsetMsgIdsText: '',
          }
        : store.putMessage(m),
    offsets,
    clients,
    closedHalves: closed,
    brokerAddr: () => '127.0.0.1:10911',
    log: createLogger('test'),
  });
  const next = store.getMaxOffsetInQueue(half, 0);
  await putHalf('refused-op', Date.now() - 10_000);
  offsets.commit(group, half, 0, next);
  const r = await failing.runPass(Date.now() + 30_000);
  assert.equal(r.discarded, 0);
  assert.equal(offsets.query(group, half, 0), next, 'the pass stops at it');
  assert.equal(closed.has(next), false, 'nothing claimed it');
  const retried = await service.runPass(Date.now() + 30_000);
  assert.equal(retried.discarded + retried.checked, 1);
});
