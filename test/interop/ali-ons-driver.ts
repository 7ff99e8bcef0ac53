/**
 * Drives the real `ali-ons` client (RocketMQ 4.x remoting) in a child process, because its timers keep a
 * process alive. Prints one JSON line with what it sent or received, then exits.
 *   produce <nameSrv> <topic> <count>                       → {"sent":[{msgId,tag,key,body}]}
 *   consume <nameSrv> <topic> <group> <tagExpr | SQL92:expr> <count> <timeoutMs> [lingerMs]
 *                                                           → {"received":[{msgId,tag,keys,body,uniqKey}]}
 * With lingerMs the consumer stays up that long after the count (1 s long polls, offsets persisted every
 * 200 ms), so its committed offsets can be checked.
 * With env ONS_WAIT_FOR_PORT=1 the consumer starts the moment the NameServer's port accepts (as a TCP readiness
 * probe allows); the line then also has `portOpenMs` and `lastMs` (epoch ms of the port opening and of the
 * count-th message).
 */
import { createRequire } from 'node:module';
import { connect } from 'node:net';

// biome-ignore lint/suspicious/noExplicitAny: ali-ons ships no types
type Any = any;
const require = createRequire(import.meta.url);
const ons: Any = require('ali-ons');
const quietLogger = { info() {}, debug() {}, warn() {}, error() {} };
const common = { httpclient: {}, clientIP: '127.0.0.1', logger: quietLogger };

async function produce(nameSrv: string, topic: string, count: number): Promise<void> {
  const producer = new ons.Producer({ ...common, nameSrv, producerGroup: 'ons_interop_producer' });
  await producer.ready();
  const sent: Array<{ msgId: string; tag: string; key: string; body: string }> = [];
  for (let i = 0; i < count; i++) {
    const tag = i % 2 === 0 ? 'TagA' : 'TagB';
    const body = `ali-ons message ${i}`;
    const msg = new ons.Message(topic, tag, body);
    msg.keys = [`ons-key-${i}`];
    const result = await producer.send(msg);
    if (result.sendStatus !== 'SEND_OK') throw new Error(`send ${i}: ${result.sendStatus}`);
    sent.push({ msgId: result.msgId, tag, key: `ons-key-${i}`, body });
  }
  process.stdout.write(`${JSON.stringify({ sent })}\n`);
  process.exit(0);
}

async function consume(
  nameSrv: string,
  topic: string,
  group: string,
  tagExpr: string,
  count: number,
  timeoutMs: number,
  lingerMs: number,
): Promise<void> {
  const portOpenMs = process.env['ONS_WAIT_FOR_PORT'] === '1' ? await portOpen(nameSrv) : undefined;
  let lastMs: number | undefined;
  const received: Array<{ msgId: string; tag: string; keys: string; body: string; uniqKey?: string }> = [];
  const quick = lingerMs > 0 ? { brokerSuspendMaxTimeMillis: 1000, persistConsumerOffsetInterval: 200 } : {};
  const consumer = new ons.Consumer({ ...common, ...quick, nameSrv, consumerGroup: group, rebalanceInterval: 1000 });
  const done = () => {
    process.stdout.write(`${JSON.stringify({ received, portOpenMs, lastMs })}\n`);
    process.exit(0);
  };
  // "SQL92:<expression>" subscribes by SQL92 (ali-ons takes { expressionType, subString }).
  const selector = tagExpr.startsWith('SQL92:') ? { expressionType: 'SQL92', subString: tagExpr.slice(6) } : tagExpr;
  consumer.subscribe(topic, selector, async (msg: Any) => {
    received.push({
      msgId: msg.msgId,
      tag: msg.tags,
      keys: String(msg.keys ?? ''),
      body: msg.body.toString(),
      uniqKey: msg.properties?.UNIQ_KEY,
    });
    if (received.length >= count) {
      lastMs ??= Date.now();
      setTimeout(done, 300 + lingerMs);
    }
  });
  consumer.on('error', (err: Error) => process.stderr.write(`consumer error: ${err.message}\n`));
  await consumer.ready();
  process.stderr.write('consumer ready\n');
  setTimeout(done, timeoutMs);
}

/** Tries to connect to `addr` every 2 ms; resolves with the time of the first connection accepted. */
async function portOpen(addr: string): Promise<number> {
  const [host, port] = addr.split(':');
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(Number(port), host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return Date.now();
    await new Promise((r) => setTimeout(r, 2));
  }
}

const [mode, ...args] = process.argv.slice(2);
const run =
  mode === 'produce'
    ? produce(args[0] as string, args[1] as string, Number(args[2]))
    : consume(
        args[0] as string,
        args[1] as string,
        args[2] as string,
        args[3] as string,
        Number(args[4]),
        Number(args[5]),
        Number(args[6] ?? 0),
      );
run.catch((err: unknown) => {
  process.stderr.write(`ali-ons driver failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
