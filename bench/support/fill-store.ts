/**
 * Fills a broker's store directory in-process through the store API (much faster than the wire) so a start-up
 * benchmark can begin from a log of many GiB. Messages look like client sends: TAGS and a distinct UNIQ_KEY.
 */
import { javaStringHashCode } from '../../src/common/hash.js';
import { encodeProperties } from '../../src/common/properties.js';
import { createMessageStore, type MessageInput, PutStatus } from '../../src/store/index.js';

export interface FillOptions {
  storePathRootDir: string;
  topic: string;
  queues: number;
  bodyBytes: number;
  targetBytes: number;
  /** Messages per putMessages call and concurrent writers. */
  batch?: number;
  writers?: number;
  onProgress?: (logBytes: number) => void;
}

const uniqPrefix = 'AC11000100002A9F';

/**
 * A store input that looks like a client's send of `tags`: TAGS, a distinct UNIQ_KEY made from `seq`, WAIT, then
 * `extra` properties in their order.
 */
export function fillInput(
  topic: string,
  queueId: number,
  body: Buffer,
  seq: number,
  tags: string,
  tagsCode: bigint,
  extra: Record<string, string> = {},
): MessageInput {
  const uniqKey = uniqPrefix + seq.toString(16).toUpperCase().padStart(16, '0');
  return {
    topic,
    queueId,
    flag: 0,
    body,
    properties: encodeProperties({ TAGS: tags, UNIQ_KEY: uniqKey, WAIT: 'true', ...extra }),
    sysFlag: 0,
    bornTimestamp: BigInt(Date.now()),
    bornHost: '127.0.0.1:1',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode,
    uniqKey,
  };
}

/** Appends until the CommitLog reaches `targetBytes`; shuts the store down cleanly. Resolves with the log end. */
export async function fillStore(o: FillOptions): Promise<{ logBytes: number; messages: number; ms: number }> {
  const store = createMessageStore({ storePathRootDir: o.storePathRootDir });
  await store.start();
  const body = Buffer.alloc(o.bodyBytes, 0x63);
  const batch = o.batch ?? 64;
  const tagsCode = BigInt(javaStringHashCode('fill'));
  let seq = 0;
  let messages = 0;
  const message = (queueId: number): MessageInput => fillInput(o.topic, queueId, body, seq++, 'fill', tagsCode);
  const t0 = performance.now();
  let lastReport = t0;
  try {
    await Promise.all(
      Array.from({ length: o.writers ?? 8 }, async (_, w) => {
        while (Number(store.getMaxPhyOffset()) < o.targetBytes) {
          const queueId = w % o.queues;
          const r = await store.putMessages(Array.from({ length: batch }, () => message(queueId)));
          if (r.status !== PutStatus.PUT_OK) throw new Error(`fill: ${r.status} ${r.remark ?? ''}`);
          messages += batch;
          const now = performance.now();
          if (now - lastReport > 5000) {
            lastReport = now;
            o.onProgress?.(Number(store.getMaxPhyOffset()));
          }
        }
      }),
    );
  } finally {
    await store.shutdown();
  }
  return { logBytes: Number(store.getMaxPhyOffset()), messages, ms: performance.now() - t0 };
}
