/**
 * An orderly push consumer in its own process for integration tests. Argument: OrderlyWorkerConfig as JSON.
 * Bodies are "<key>:<seq>". Prints {"t":"started"}, {"t":"assigned","queues"} when its queues change,
 * {"t":"msg","k","s","q","o","r","ts","te"} per delivery, written as the handler ends (ts / te: when the handler
 * started / ended, wall clock in ms with sub-ms precision, so deliveries of several processes can be merged in
 * time order and overlaps seen), {"t":"stopped"} after a SIGTERM shutdown.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsumeResult } from '../../src/client/consume-service.js';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { PushConsumer } from '../../src/client/push-consumer.js';

export interface OrderlyWorkerConfig {
  nameServer: string;
  topic: string;
  group: string;
  /** "<key>:<seq>" → how many deliveries fail before one succeeds (-1: every one). */
  failures?: Record<string, number>;
  maxReconsumeTimes?: number;
  orderlyScope?: 'queue' | 'shardingKey';
  /** Mean work per message (ms; each takes 0 to twice this), so consumption overlaps membership changes. */
  handlerDelayMs?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as OrderlyWorkerConfig;
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
const failed = new Map<string, number>();

const consumer = new PushConsumer({
  nameServer: config.nameServer,
  group: config.group,
  clientIp: '127.0.0.1',
  orderly: true,
  orderlyScope: config.orderlyScope ?? 'queue',
  suspendCurrentQueueTimeMs: 50,
  ...(config.maxReconsumeTimes === undefined ? {} : { maxReconsumeTimes: config.maxReconsumeTimes }),
  consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  // Short periods so membership changes and commits show up within a test's time budget.
  rebalanceIntervalMs: 1000,
  heartbeatIntervalMs: 1000,
  pollNameServerIntervalMs: 1000,
  persistOffsetIntervalMs: 200,
});
const now = () => performance.timeOrigin + performance.now();
consumer.subscribe(config.topic, '*').onMessage(async (msg) => {
  const ts = now();
  const text = msg.body.toString();
  const [k, s] = text.split(':');
  const event = { t: 'msg', k, s: Number(s), q: msg.queueId, o: Number(msg.queueOffset), r: msg.reconsumeTimes, ts };
  if (config.handlerDelayMs !== undefined) await sleep(Math.random() * 2 * config.handlerDelayMs);
  const budget = config.failures?.[text];
  let result: ConsumeResult = ConsumeResult.CONSUME_SUCCESS;
  if (budget !== undefined) {
    const n = failed.get(text) ?? 0;
    if (budget === -1 || n < budget) {
      failed.set(text, n + 1);
      result = ConsumeResult.RECONSUME_LATER;
    }
  }
  emit({ ...event, te: now() });
  return result;
});

let last = '';
const reportAssignment = () => {
  const queues = consumer
    .assignedQueues()
    .filter((mq) => mq.topic === config.topic)
    .map((mq) => mq.queueId)
    .sort((a, b) => a - b);
  const text = queues.join(',');
  if (text !== last) {
    last = text;
    emit({ t: 'assigned', queues });
  }
};

await consumer.start();
emit({ t: 'started' });
reportAssignment();
setInterval(reportAssignment, 50);

process.once('SIGTERM', () => {
  consumer.shutdown().then(
    () => {
      emit({ t: 'stopped' });
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`shutdown failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
});
