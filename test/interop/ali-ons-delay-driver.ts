/**
 * Drives `ali-ons` for the delay test in a child process (its timers keep a process alive): a consumer of
 * `topic` starts and receives a warm-up message, then a producer sends `count` messages with `delayTimeLevel`;
 * prints one JSON line {"sent":[{msgId,body,sentAtMs,ackedAtMs}],"received":[{msgId,body,receivedAtMs,delay}]}.
 *   <nameSrv> <topic> <group> <level> <count> <timeoutMs>
 */
import { createRequire } from 'node:module';

// biome-ignore lint/suspicious/noExplicitAny: ali-ons ships no types
type Any = any;
const require = createRequire(import.meta.url);
const ons: Any = require('ali-ons');
const quietLogger = { info() {}, debug() {}, warn() {}, error() {} };
const common = { httpclient: {}, clientIP: '127.0.0.1', logger: quietLogger };

async function main(nameSrv: string, topic: string, group: string, level: number, count: number, timeoutMs: number) {
  const sent: Array<{ msgId: string; body: string; sentAtMs: number; ackedAtMs: number }> = [];
  const received: Array<{ msgId: string; body: string; receivedAtMs: number; delay?: string }> = [];
  let warmed: () => void = () => {};
  const warm = new Promise<void>((resolve) => {
    warmed = resolve;
  });
  const done = () => {
    process.stdout.write(`${JSON.stringify({ sent, received })}\n`);
    process.exit(0);
  };
  const consumer = new ons.Consumer({ ...common, nameSrv, consumerGroup: group, rebalanceInterval: 1000 });
  consumer.subscribe(topic, '*', async (msg: Any) => {
    if (msg.tags === 'warm') return warmed();
    received.push({
      msgId: msg.msgId,
      body: msg.body.toString(),
      receivedAtMs: Date.now(),
      delay: msg.properties?.DELAY,
    });
    if (received.length >= count) setTimeout(done, 300);
  });
  consumer.on('error', (err: Error) => process.stderr.write(`consumer error: ${err.message}\n`));
  await consumer.ready();
  setTimeout(done, timeoutMs);
  const producer = new ons.Producer({ ...common, nameSrv, producerGroup: 'ons_delay_producer' });
  await producer.ready();
  await producer.send(new ons.Message(topic, 'warm', 'warm'));
  await warm;
  for (let i = 0; i < count; i++) {
    const body = `delayed ${i}`;
    const msg = new ons.Message(topic, 'TagD', body);
    msg.delayTimeLevel = level;
    const sentAtMs = Date.now();
    const result = await producer.send(msg);
    if (result.sendStatus !== 'SEND_OK') throw new Error(`send ${i}: ${result.sendStatus}`);
    sent.push({ msgId: result.msgId, body, sentAtMs, ackedAtMs: Date.now() });
  }
}

const [nameSrv, topic, group, level, count, timeoutMs] = process.argv.slice(2);
main(nameSrv as string, topic as string, group as string, Number(level), Number(count), Number(timeoutMs)).catch(
  (err: unknown) => {
    process.stderr.write(`ali-ons delay driver failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
