/**
 * A producer in its own process for integration tests. Argument: ProducerWorkerConfig as JSON.
 * Sends one message at a time and prints {"t":"ack","id","q","o"} for each acknowledged send and
 * {"t":"fail","i","err"} for each that failed after the client's retries; {"t":"done","acked","failed"} at the
 * end (count reached, or SIGTERM when count is 0).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer } from '../../src/client/producer.js';
import type { ProducerWorkerConfig } from './procs.js';

const config = JSON.parse(process.argv[2] ?? '{}') as ProducerWorkerConfig;
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

const producer = new Producer({
  nameServer: config.nameServer,
  group: 'PID_integration',
  clientIp: '127.0.0.1',
  sendTimeoutMs: 2000,
  pollNameServerIntervalMs: 500,
});
await producer.start();
emit({ t: 'started' });

let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
});

let acked = 0;
let failed = 0;
for (let i = 0; !stopping && (config.count === 0 || i < config.count); i++) {
  try {
    const r = await producer.send({ topic: config.topic, body: `message ${i} from ${process.pid}`, keys: [`k${i}`] });
    acked++;
    emit({ t: 'ack', id: r.msgId, q: r.messageQueue.queueId, o: Number(r.queueOffset), s: r.status });
  } catch (err) {
    failed++;
    emit({ t: 'fail', i, err: err instanceof Error ? err.message : String(err) });
    await sleep(100);
  }
  if (config.intervalMs > 0) await sleep(config.intervalMs);
}
await producer.shutdown();
emit({ t: 'done', acked, failed });
process.exit(0);
