/**
 * The trace dispatcher and the consume hook, without a broker: records leave in batches as one trace message
 * each (keys = msgIds + keys); a full queue drops and counts; a failing trace send is counted and never reaches
 * the traced call; the consume wrapper records SubBefore/SubAfter with the right context code.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConsumeResult } from '../../../src/client/consume-service.js';
import type { Message } from '../../../src/client/message.js';
import type { ReceivedMessage } from '../../../src/client/received-message.js';
import { resolveTraceOptions, TraceDispatcher } from '../../../src/client/trace/dispatcher.js';
import {
  ConsumeContextCode,
  decodeTraceData,
  type SubAfterRecord,
  type SubBeforeRecord,
  type TraceRecord,
} from '../../../src/client/trace/trace-data.js';
import { Tracer } from '../../../src/client/trace/tracer.js';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { Prop } from '../../../src/common/properties.js';

const options = (o: Parameters<typeof resolveTraceOptions>[0]) => {
  const r = resolveTraceOptions(o);
  assert.ok(r);
  return r;
};

function before(i: number, keys?: string): SubBeforeRecord {
  return {
    type: 'SubBefore',
    timestampMs: i,
    regionId: 'R',
    groupName: 'G',
    requestId: `Q${i}`,
    msgId: `M${i}`,
    retryTimes: 0,
    keys,
  };
}

test('trace options: off by default, RMQ_SYS_TRACE_TOPIC when on, bad values refused', () => {
  assert.equal(resolveTraceOptions(undefined), undefined);
  assert.equal(resolveTraceOptions(false), undefined);
  assert.equal(options(true).topic, 'RMQ_SYS_TRACE_TOPIC');
  assert.equal(options({ topic: 'MyTrace' }).topic, 'MyTrace');
  assert.throws(() => resolveTraceOptions({ queueRecordsMax: 0 }), InvalidArgumentError);
  assert.throws(() => resolveTraceOptions({ topic: '' }), InvalidArgumentError);
});

test('records leave in batches of batchRecordsMax, each a trace message keyed by msgIds and keys', async () => {
  const sent: Message[] = [];
  const d = new TraceDispatcher(options({ batchRecordsMax: 3, flushIntervalMs: 10_000 }), async (m) => {
    sent.push(m);
  });
  for (let i = 0; i < 7; i++) d.add(before(i, i === 0 ? 'biz' : undefined));
  await d.flush();
  assert.deepEqual(
    sent.map((m) => decodeTraceData(String(m.body)).records.length),
    [3, 3, 1],
  );
  assert.equal(sent[0]?.topic, 'RMQ_SYS_TRACE_TOPIC');
  assert.deepEqual(sent[0]?.keys, ['M0', 'biz', 'M1', 'M2']);
  assert.deepEqual(d.stats, {
    recorded: 7,
    dropped: 0,
    messagesSent: 3,
    recordsSent: 7,
    messagesFailed: 0,
    recordsFailed: 0,
  });
});

test('a lone record leaves after flushIntervalMs', async () => {
  let got: Message | undefined;
  const d = new TraceDispatcher(options({ flushIntervalMs: 20 }), async (m) => {
    got = m;
  });
  d.add(before(1));
  const t0 = Date.now();
  while (got === undefined && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 5));
  assert.ok(got, 'sent by the timer');
  assert.equal(d.pending, 0);
});

test('a full queue drops and counts; a failing trace send is counted, never thrown', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let calls = 0;
  const d = new TraceDispatcher(
    options({ queueRecordsMax: 4, batchRecordsMax: 2, flushIntervalMs: 10_000 }),
    async () => {
      calls++;
      await gate;
      throw new Error('broker down');
    },
  );
  // The first 2 leave at once (a full batch) and hang; 4 more fill the queue; 3 more are dropped.
  for (let i = 0; i < 9; i++) d.add(before(i));
  assert.equal(d.stats.dropped, 3);
  assert.equal(d.pending, 4);
  release();
  await d.flush();
  assert.equal(calls, 3);
  assert.equal(d.stats.messagesFailed, 3);
  assert.equal(d.stats.recordsFailed, 6);
  await d.close(100);
  d.add(before(99));
  assert.equal(d.stats.dropped, 4, 'closed: refused and counted');
});

test('big records split trace messages below 128 KiB', async () => {
  const sizes: number[] = [];
  const d = new TraceDispatcher(options({ flushIntervalMs: 10_000 }), async (m) => {
    sizes.push(Buffer.byteLength(String(m.body)));
  });
  for (let i = 0; i < 5; i++) d.add(before(i, 'k'.repeat(50_000)));
  await d.flush();
  assert.ok(sizes.length >= 3, `split into ${sizes.length}`);
  for (const s of sizes) assert.ok(s <= 128 * 1024, `${s} bytes`);
});

/** A received message as the consume hook reads it. */
function received(props: Record<string, string> = {}): ReceivedMessage {
  return {
    topic: 'T',
    msgId: 'ABC',
    keys: ['k1', 'k2'],
    reconsumeTimes: 3,
    properties: new Map(Object.entries(props)),
  } as unknown as ReceivedMessage;
}

test('the consume hook: SubBefore then SubAfter with SUCCESS / FAILED / EXCEPTION; the handler outcome is kept', async () => {
  const records: TraceRecord[] = [];
  const d = new TraceDispatcher(options(true), async () => undefined);
  d.add = (r) => {
    records.push(r);
  };
  const tracer = new Tracer(
    d,
    'CG',
    '10.1.1.1',
    () => undefined,
    async () => undefined,
  );
  const handler = async () => ConsumeResult.CONSUME_SUCCESS;
  assert.equal(tracer.wrap(handler), tracer.wrap(handler), 'one wrapper per handler');
  assert.equal(await tracer.wrap(handler)(received({ [Prop.msgRegion]: 'EU' })), ConsumeResult.CONSUME_SUCCESS);
  assert.equal(await tracer.wrap(async () => ConsumeResult.RECONSUME_LATER)(received()), ConsumeResult.RECONSUME_LATER);
  const throwing = tracer.wrap(() => {
    throw new Error('boom');
  });
  await assert.rejects(async () => throwing(received()), /boom/);
  // TRACE_ON=false: not traced.
  await tracer.wrap(handler)(received({ [Prop.traceSwitch]: 'false' }));
  assert.deepEqual(
    records.map((r) => r.type),
    ['SubBefore', 'SubAfter', 'SubBefore', 'SubAfter', 'SubBefore', 'SubAfter'],
  );
  const b = records[0] as SubBeforeRecord;
  assert.equal(b.regionId, 'EU');
  assert.equal(b.retryTimes, 3);
  assert.equal(b.keys, 'k1 k2');
  assert.equal(b.clientHost, '10.1.1.1');
  const codes = records
    .filter((r): r is SubAfterRecord => r.type === 'SubAfter')
    .map((r) => [r.contextCode, r.success]);
  assert.deepEqual(codes, [
    [ConsumeContextCode.SUCCESS, true],
    [ConsumeContextCode.FAILED, false],
    [ConsumeContextCode.EXCEPTION, false],
  ]);
  assert.equal((records[1] as SubAfterRecord).requestId, b.requestId);
});
