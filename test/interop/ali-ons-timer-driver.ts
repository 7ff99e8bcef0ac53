/**
 * Drives the real `ali-ons` producer in a child process for timer messages: Message.setStartDeliverTime (Aliyun's
 * `__STARTDELIVERTIME`, absolute ms).
 *   produce <nameSrv> <topic> <count> <aheadMs>  → {"sent":[{msgId,body,dueMs}]}  (each due aheadMs after its send)
 *   produce-at <nameSrv> <topic> <atMs>          → {"sent":[{msgId,body,dueMs}]} or {"sent":[],"error":message}
 */
import { createRequire } from 'node:module';

// biome-ignore lint/suspicious/noExplicitAny: ali-ons ships no types
type Any = any;
const require = createRequire(import.meta.url);
const ons: Any = require('ali-ons');
const quietLogger = { info() {}, debug() {}, warn() {}, error() {} };
const common = { httpclient: {}, clientIP: '127.0.0.1', logger: quietLogger };

async function produce(nameSrv: string, topic: string, dueOf: (i: number) => number, count: number): Promise<void> {
  const producer = new ons.Producer({ ...common, nameSrv, producerGroup: 'ons_timer_producer' });
  await producer.ready();
  const sent: Array<{ msgId: string; body: string; dueMs: number }> = [];
  try {
    for (let i = 0; i < count; i++) {
      const body = `ali-ons timer ${i} ${Date.now()}`;
      const msg = new ons.Message(topic, 'TagT', body);
      const dueMs = dueOf(i);
      msg.setStartDeliverTime(dueMs);
      const result = await producer.send(msg);
      if (result.sendStatus !== 'SEND_OK') throw new Error(`send ${i}: ${result.sendStatus}`);
      sent.push({ msgId: result.msgId, body, dueMs });
    }
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ sent, error: (err as Error).message })}\n`);
    process.exit(0);
  }
  process.stdout.write(`${JSON.stringify({ sent })}\n`);
  process.exit(0);
}

const [cmd, nameSrv, topic, a, b] = process.argv.slice(2);
if (cmd === 'produce') {
  await produce(nameSrv as string, topic as string, () => Date.now() + Number(b), Number(a));
} else if (cmd === 'produce-at') {
  await produce(nameSrv as string, topic as string, () => Number(a), 1);
} else {
  process.stderr.write(`unknown command ${cmd}\n`);
  process.exit(2);
}
