/** tsrocket's own Producer and PushConsumer on one side of a cross-client interop test. */
import { createHash } from 'node:crypto';
import { Admin } from '../../src/client/admin/admin.js';
import type { Message } from '../../src/client/message.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import type { ReceivedMessage } from '../../src/client/received-message.js';

/** What either side saw of one message; bodies compared by hash (some are 64 KiB). */
export interface Seen {
  msgId: string;
  tags: string | undefined;
  keys: string;
  bodySha256: string;
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export async function createTopic(nameServer: string, topic: string): Promise<void> {
  const admin = new Admin({ nameServer });
  try {
    await admin.createOrUpdateTopic(
      { cluster: 'DefaultCluster' },
      { topicName: topic, readQueueNums: 4, writeQueueNums: 4 },
    );
    // The broker registers the topic with the NameServer asynchronously.
    for (const deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
      const routed = await admin.topicStatus(topic).then(
        () => true,
        (err: unknown) => (Date.now() > deadline ? Promise.reject(err) : false),
      );
      if (routed) break;
    }
  } finally {
    await admin.close();
  }
}

/** A compressible body over the 4 KiB compression threshold. */
export function bigBody(): Buffer {
  let text = '';
  for (let i = 0; text.length < 64 * 1024; i++) text += `line ${i} of a body our producer compresses\n`;
  return Buffer.from(text);
}

/** Sends with our Producer: sequential, concurrent (coalesced into one batch), an explicit batch, a compressed body. */
export async function produceWithOurs(nameServer: string, topic: string): Promise<Seen[]> {
  await createTopic(nameServer, topic);
  const producer = new Producer({ nameServer, group: `${topic}PG`, clientIp: '127.0.0.1' });
  await producer.start();
  const seen: Seen[] = [];
  const record = (msg: Message, msgId: string) =>
    seen.push({
      msgId,
      tags: msg.tags,
      keys: [msg.keys ?? []].flat().join(' '),
      bodySha256: sha256(Buffer.from(msg.body)),
    });
  try {
    for (let i = 0; i < 4; i++) {
      const msg: Message = { topic, body: `ours sequential ${i}`, tags: 'TagA', keys: [`ours-key-${i}`, 'second'] };
      record(msg, (await producer.send(msg)).msgId);
    }
    const concurrent = Array.from(
      { length: 8 },
      (_, i): Message => ({ topic, body: `ours concurrent ${i}`, tags: 'TagB' }),
    );
    const results = await Promise.all(concurrent.map((m) => producer.send(m)));
    for (const [i, m] of concurrent.entries()) record(m, results[i]?.msgId ?? '');
    const batch = Array.from(
      { length: 3 },
      (_, i): Message => ({ topic, body: `ours batch ${i}`, keys: `batch-${i}` }),
    );
    const ids = (await producer.send(batch)).msgId.split(',');
    for (const [i, m] of batch.entries()) record(m, ids[i] ?? '');
    const big: Message = { topic, body: bigBody(), tags: 'TagZ' };
    record(big, (await producer.send(big)).msgId);
  } finally {
    await producer.shutdown();
  }
  return seen;
}

/** Consumes `topics` from their first offset with our PushConsumer until `count` messages arrived (or 20 s). */
export async function consumeWithOurs(
  nameServer: string,
  group: string,
  topics: string[],
  count: number,
): Promise<Seen[]> {
  const consumer = new PushConsumer({
    nameServer,
    group,
    clientIp: '127.0.0.1',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  });
  const seen: Seen[] = [];
  const all = new Promise<void>((resolve) => {
    for (const t of topics) consumer.subscribe(t, '*');
    consumer.onMessage(async (m: ReceivedMessage) => {
      seen.push({ msgId: m.msgId, tags: m.tags, keys: m.keys.join(' '), bodySha256: sha256(m.body) });
      if (seen.length >= count) resolve();
    });
  });
  await consumer.start();
  try {
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 20_000).unref())]);
  } finally {
    await consumer.shutdown();
  }
  return seen;
}
