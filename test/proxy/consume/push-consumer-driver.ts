/**
 * Apache's Node.js 5.x PushConsumer in its own process (so the client's gRPC work runs beside the broker's, not on
 * its thread; and its client leaves handles open after shutdown): consumes `topic` as `group` until `count`
 * distinct messages arrived or none arrived for `stallMs` (a count-based wait: a busy machine only slows it), then prints {"ids":[…],"deliveries":n,"bodies":[…]} (bodies in
 * consumption order, for counts up to 100) and exits. The listener fails every message whose body is `failBody`.
 *   <endpoints> <topic> <group> <count> <stallMs> [failBody]
 */
import { ConsumeResult, type MessageView, PushConsumer } from 'rocketmq-client-nodejs';
import { clientOptions } from './helpers.js';

const [endpoints, topic, group, countArg, stallArg, failBody] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string | undefined,
];
const count = Number(countArg);
const ids = new Set<string>();
let deliveries = 0;
let lastArrivalMs = Date.now();
const bodies: string[] = [];
let finished = false;
let onDone: () => void = () => {};
const done = new Promise<void>((resolve) => {
  onDone = resolve;
});

const consumer = new PushConsumer({
  ...clientOptions(endpoints),
  consumerGroup: group,
  subscriptions: new Map([[topic, '*']]),
  messageListener: {
    consume(m: MessageView) {
      deliveries++;
      lastArrivalMs = Date.now();
      ids.add(m.messageId);
      const body = m.body.toString();
      if (count <= 100) bodies.push(body);
      if (ids.size >= count) onDone();
      return body === failBody ? ConsumeResult.FAILURE : ConsumeResult.SUCCESS;
    },
  },
});

async function main(): Promise<void> {
  await consumer.startup();
  lastArrivalMs = Date.now();
  const stallMs = Number(stallArg);
  const timer = setInterval(() => {
    if (Date.now() - lastArrivalMs > stallMs) onDone();
  }, 200);
  await done;
  clearInterval(timer);
  if (finished) return;
  finished = true;
  process.stdout.write(`${JSON.stringify({ ids: [...ids], deliveries, bodies })}\n`);
  // Acks of the last messages are sent once the listener returns: shut down cleanly, within a bound.
  await Promise.race([consumer.shutdown(), new Promise((r) => setTimeout(r, 10_000))]);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`push consumer driver failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
