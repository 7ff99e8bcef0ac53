/**
 * A producer in its own process that sends fixed UNIQ_KEYs, as a producer resending its journal after a crash
 * would. Argument: {"nameServer","topic","count","prefix"} as JSON. Sends `${prefix}-${i}` for i in 0..count-1, one
 * at a time, and prints {"t":"ack","k","id","q","o"} per acknowledged send (id: the broker's offsetMsgId), then
 * {"t":"done"}.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer } from '../../src/client/producer.js';
import { Prop } from '../../src/common/properties.js';

const config = JSON.parse(process.argv[2] ?? '{}') as {
  nameServer: string;
  topic: string;
  count: number;
  prefix: string;
};
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

const producer = new Producer({
  nameServer: config.nameServer,
  group: 'PID_it_dedup',
  clientIp: '127.0.0.1',
  sendTimeoutMs: 3000,
});
await producer.start();
emit({ t: 'started' });
for (let i = 0; i < config.count; i++) {
  const k = `${config.prefix}-${i}`;
  for (;;) {
    try {
      const r = await producer.send({ topic: config.topic, body: `body of ${k}`, properties: { [Prop.uniqKey]: k } });
      emit({ t: 'ack', k, id: r.offsetMsgId, q: r.messageQueue.queueId, o: Number(r.queueOffset) });
      break;
    } catch (err) {
      emit({ t: 'fail', k, err: err instanceof Error ? err.message : String(err) });
      await sleep(100);
    }
  }
}
await producer.shutdown();
emit({ t: 'done' });
process.exit(0);
