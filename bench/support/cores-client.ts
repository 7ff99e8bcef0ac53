/**
 * One load-generator process of `bench:cores` (forked with an IPC channel). On `produce` it sends its share
 * with `window` sends in flight through the SDK (auto-batching as users get it; `batch` > 1: explicit batches
 * of that many messages); on `consume` it joins the
 * bench's consumer group from the first offset and reports its count every 100 ms until `stop`.
 */

import { SendLoad } from '../../src/bench/load.js';
import { ConsumeFromWhere, Producer, PushConsumer } from '../../src/client/index.js';
import { setLogLevel } from '../../src/common/log.js';

setLogLevel('error');

export type CoresClientCommand =
  | { t: 'produce'; nameServer: string; topic: string; count: number; bodyBytes: number; window: number; batch: number }
  | { t: 'consume'; nameServer: string; topic: string; group: string }
  | { t: 'stop' };

export type CoresClientReport =
  | { t: 'produced'; acked: number; failed: number; ms: number; error?: string }
  | { t: 'consumed'; received: number; firstAtMs: number; lastAtMs: number }
  | { t: 'stopped' };

const reply = (r: CoresClientReport) => process.send?.(r);
/** Wall clock in ms with sub-ms resolution, comparable across processes. */
const wallMs = () => performance.timeOrigin + performance.now();

let consumer: PushConsumer | undefined;
let reportTimer: NodeJS.Timeout | undefined;
let received = 0;
let firstAtMs = 0;
let lastAtMs = 0;

async function produce(c: Extract<CoresClientCommand, { t: 'produce' }>): Promise<void> {
  const producer = new Producer({
    nameServer: c.nameServer,
    group: `bench_cores_${process.pid}`,
    clientIp: '127.0.0.1',
  });
  await producer.start();
  try {
    // Route lookup and connections before the clock starts.
    await producer.send({ topic: c.topic, body: Buffer.alloc(c.bodyBytes) });
    const load = new SendLoad({
      topic: c.topic,
      bodyBytes: c.bodyBytes,
      window: c.window,
      batch: c.batch,
      count: c.count,
      durationMs: 600_000,
    });
    const ms = await load.run(producer);
    reply({ t: 'produced', acked: load.acked + 1, failed: load.failed, ms, error: load.firstError?.message });
  } finally {
    await producer.shutdown();
  }
}

async function consume(c: Extract<CoresClientCommand, { t: 'consume' }>): Promise<void> {
  const report = () => reply({ t: 'consumed', received, firstAtMs, lastAtMs });
  consumer = new PushConsumer({
    nameServer: c.nameServer,
    group: c.group,
    clientIp: '127.0.0.1',
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    consumeConcurrency: 64,
    subscriptions: { [c.topic]: '*' },
    handler: () => {
      const now = wallMs();
      if (received === 0) firstAtMs = now;
      lastAtMs = now;
      received++;
    },
  });
  await consumer.start();
  reportTimer = setInterval(report, 100);
}

process.on('message', (raw) => {
  const c = raw as CoresClientCommand;
  const failed = (err: unknown) => reply({ t: 'produced', acked: 0, failed: 0, ms: 0, error: String(err) });
  if (c.t === 'produce') produce(c).catch(failed);
  else if (c.t === 'consume') consume(c).catch((err: unknown) => process.stderr.write(`consume failed: ${err}\n`));
  else {
    clearInterval(reportTimer);
    reply({ t: 'consumed', received, firstAtMs, lastAtMs });
    void (consumer?.shutdown() ?? Promise.resolve()).then(() => {
      reply({ t: 'stopped' });
      process.exit(0);
    });
  }
});
process.on('disconnect', () => process.exit(0));
