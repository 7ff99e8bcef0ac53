/** Building blocks of produce modes: per-message sends in a window, and explicit batches in a window. */
import { runWindowed } from './load.js';

/** `count` single publishes, at most `window` unconfirmed. */
export async function runPerMessage(
  count: number,
  window: number,
  publish: (body: Buffer) => Promise<unknown>,
  body: (i: number) => Buffer,
): Promise<number> {
  await runWindowed(count, window, (i) => publish(body(i)));
  return 0;
}

/** `count` messages as batches of `batchSize` (the last may be short), at most `batchesInFlight` unconfirmed. */
export async function runBatches(
  count: number,
  batchSize: number,
  batchesInFlight: number,
  sendBatch: (bodies: Buffer[]) => Promise<unknown>,
  body: (i: number) => Buffer,
): Promise<number> {
  const batches = Math.ceil(count / batchSize);
  await runWindowed(batches, Math.max(1, batchesInFlight), (b) => {
    const first = b * batchSize;
    const n = Math.min(batchSize, count - first);
    const bodies = new Array<Buffer>(n);
    for (let i = 0; i < n; i++) bodies[i] = body(first + i);
    return sendBatch(bodies);
  });
  return 0;
}

/** Splits `count` messages over `lanes` loops, each sending its next batch after the previous was confirmed. */
export async function runLanes(
  count: number,
  lanes: number,
  batchSize: number,
  sendBatch: (lane: number, bodies: Buffer[]) => Promise<unknown>,
  body: (i: number) => Buffer,
): Promise<number> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      while (next < count) {
        const first = next;
        const n = Math.min(batchSize, count - first);
        next += n;
        const bodies = new Array<Buffer>(n);
        for (let i = 0; i < n; i++) bodies[i] = body(first + i);
        await sendBatch(lane, bodies);
      }
    }),
  );
  return 0;
}
