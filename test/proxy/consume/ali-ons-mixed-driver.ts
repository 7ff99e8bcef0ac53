/**
 * The real `ali-ons` client (RocketMQ 4.x remoting) on one side of a 4.x ↔ 5.x test, in a child process (its
 * timers keep a process alive). Prints one JSON line, then exits.
 *   produce <nameSrv> <topic> <count>  → {"sent":[{msgId,tag,key,index,bodySha256}]}: even messages have 8 KiB+
 *                                        bodies (sent zlib-compressed), every one user properties color/index
 *   consume <nameSrv> <topic> <group> <count> <timeoutMs>
 *                                      → {"received":[{msgId,uniqKey,tag,keys,props,bodySha256}]}
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mixedBody } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: ali-ons ships no types
type Any = any;
const require = createRequire(import.meta.url);
const ons: Any = require('ali-ons');
const quietLogger = { info() {}, debug() {}, warn() {}, error() {} };
const common = { httpclient: {}, clientIP: '127.0.0.1', logger: quietLogger };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function produce(nameSrv: string, topic: string, count: number): Promise<void> {
  const producer = new ons.Producer({ ...common, nameSrv, producerGroup: 'ons_mixed_producer' });
  await producer.ready();
  const sent: Array<{ msgId: string; tag: string; key: string; index: number; bodySha256: string }> = [];
  for (let i = 0; i < count; i++) {
    const tag = i % 2 === 0 ? 'TagA' : 'TagB';
    const body = mixedBody(i);
    const msg = new ons.Message(topic, tag, body);
    msg.keys = [`ons-key-${i}`];
    msg.properties.color = i % 3 === 0 ? 'red' : 'blue';
    msg.properties.index = String(i);
    const result = await producer.send(msg);
    if (result.sendStatus !== 'SEND_OK') throw new Error(`send ${i}: ${result.sendStatus}`);
    sent.push({ msgId: result.msgId, tag, key: `ons-key-${i}`, index: i, bodySha256: sha256(body) });
  }
  process.stdout.write(`${JSON.stringify({ sent })}\n`);
  process.exit(0);
}

async function consume(nameSrv: string, topic: string, group: string, count: number, timeoutMs: number) {
  const received: Array<Record<string, unknown>> = [];
  const consumer = new ons.Consumer({ ...common, nameSrv, consumerGroup: group, rebalanceInterval: 1000 });
  const done = () => {
    process.stdout.write(`${JSON.stringify({ received })}\n`);
    process.exit(0);
  };
  consumer.subscribe(topic, '*', async (msg: Any) => {
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries(msg.properties ?? {})) props[k] = String(v);
    received.push({
      msgId: msg.msgId,
      uniqKey: msg.properties?.UNIQ_KEY,
      tag: msg.tags,
      keys: String(msg.keys ?? ''),
      props,
      bodySha256: sha256(msg.body),
    });
    if (received.length >= count) setTimeout(done, 300);
  });
  consumer.on('error', (err: Error) => process.stderr.write(`consumer error: ${err.message}\n`));
  await consumer.ready();
  setTimeout(done, timeoutMs);
}

const [mode, ...args] = process.argv.slice(2);
const run =
  mode === 'produce'
    ? produce(args[0] as string, args[1] as string, Number(args[2]))
    : consume(args[0] as string, args[1] as string, args[2] as string, Number(args[3]), Number(args[4]));
run.catch((err: unknown) => {
  process.stderr.write(`ali-ons driver failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
