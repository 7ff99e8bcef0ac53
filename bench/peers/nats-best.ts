/**
 * NATS JetStream at its best: async publish (core publish to a reply inbox, PubAcks counted in order, as Go's
 * PublishAsync does, with a window of unacked publishes) and a pull consumer with large batches.
 */
import { AckPolicy, createInbox, DeliverPolicy, type JetStreamClient, type NatsConnection } from 'nats';
import type { ConsumeMode, ConsumerHandle, ProduceMode } from './peer.js';
import { Durability, ModeKind } from './results.js';

/** Messages per pull batch of the big-batch consumer, its cumulative ack interval and ack-pending bound. */
const bigBatchMessages = 10_000;
const bigAckEvery = 1000;
const bigAckPendingMax = 100_000;
export const bigDurable = 'bench_big';
const stallMs = 60_000;

/** A PubAck is `{"stream":…}`; a failure is `{"error":…}` (checked on its first bytes, no JSON parse). */
function isErrorAck(data: Uint8Array): boolean {
  return data.length < 4 || (data[2] === 0x65 && data[3] === 0x72);
}

export function natsAsyncPublish(nc: NatsConnection, window: number): ProduceMode {
  return {
    mode: 'async-publish',
    kind: ModeKind.best,
    durability: Durability.pageCache,
    describe: `core publish with a reply inbox, PubAcks counted in order, ${window} in flight`,
    run: (name, count, body) =>
      new Promise<number>((resolve, reject) => {
        const inbox = createInbox();
        let sent = 0;
        let acked = 0;
        let lastProgress = performance.now();
        const finish = (err?: Error) => {
          clearInterval(watchdog);
          sub.unsubscribe();
          if (err === undefined) resolve(0);
          else reject(err);
        };
        const fill = () => {
          while (sent < count && sent - acked < window) nc.publish(name, body(sent++), { reply: inbox });
        };
        const sub = nc.subscribe(inbox, {
          callback: (err, m) => {
            if (err !== null) return finish(err);
            if (isErrorAck(m.data)) return finish(new Error(`PubAck error: ${m.string()}`));
            lastProgress = performance.now();
            if (++acked === count) return finish();
            fill();
          },
        });
        const watchdog = setInterval(() => {
          if (performance.now() - lastProgress > stallMs) finish(new Error(`no PubAck for ${stallMs} ms`));
        }, 1000);
        fill();
      }),
  };
}

export function natsBigBatchConsumer(nc: NatsConnection, js: JetStreamClient): ConsumeMode {
  return {
    mode: `pull-${bigBatchMessages}`,
    kind: ModeKind.best,
    describe: `durable pull consumer, consume max_messages ${bigBatchMessages}, AckAll every ${bigAckEvery}`,
    async consume(name, onMessage): Promise<ConsumerHandle> {
      const jsm = await nc.jetstreamManager();
      await jsm.consumers.add(name, {
        durable_name: bigDurable,
        ack_policy: AckPolicy.All,
        deliver_policy: DeliverPolicy.All,
        max_ack_pending: bigAckPendingMax,
      });
      const consumer = await js.consumers.get(name, bigDurable);
      const messages = await consumer.consume({ max_messages: bigBatchMessages });
      let n = 0;
      const loop = (async () => {
        for await (const m of messages) {
          onMessage(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
          if (++n % bigAckEvery === 0 || m.info.pending === 0) m.ack();
        }
      })();
      loop.catch(() => undefined);
      return {
        stop: async () => {
          await messages.close().catch(() => undefined);
          await loop.catch(() => undefined);
        },
      };
    },
  };
}
