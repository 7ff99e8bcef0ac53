/**
 * A push consumer in its own process for integration tests. Argument: ConsumerWorkerConfig as JSON.
 * Prints JSON lines: {"t":"started"}, {"t":"assigned","queues":[…]} whenever its queues of the topic change,
 * {"t":"msg","id","q","o","r"} per consumed message (written before the handler returns, so a message it
 * acknowledged is always reported), {"t":"stopped"} after a SIGTERM shutdown.
 */
import { ConsumeFromWhere, MessageModel } from '../../src/client/heartbeat.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import type { ConsumerWorkerConfig } from './procs.js';

const config = JSON.parse(process.argv[2] ?? '{}') as ConsumerWorkerConfig;
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

const consumer = new PushConsumer({
  nameServer: config.nameServer,
  group: config.group,
  clientIp: '127.0.0.1',
  messageModel: MessageModel[config.messageModel],
  consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
  offsetStoreDir: config.offsetStoreDir,
  // Short periods so membership changes and commits show up within a test's time budget.
  rebalanceIntervalMs: 1000,
  heartbeatIntervalMs: 1000,
  pollNameServerIntervalMs: 1000,
  persistOffsetIntervalMs: 200,
});
consumer.subscribe(config.topic, '*').onMessage((msg) => {
  emit({ t: 'msg', id: msg.msgId, q: msg.queueId, o: Number(msg.queueOffset), r: msg.reconsumeTimes });
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
