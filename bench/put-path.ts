/**
 * The broker's batch put path in one process, without sockets: SEND_BATCH_MESSAGE bodies of 64 messages decoded
 * as the send processor does (`forEachBatchItem` + `inputOf`) and stored by a file store (ASYNC_FLUSH, 8 queues,
 * 16 puts in flight). Prints process CPU ns per message (main thread and helpers): the send path's CPU floor,
 * steadier on a shared machine than a socket run. With two trees (each a checkout with a built dist/), runs them
 * alternated, each run in its own child process, and prints B / A. `--store-only`: the put inputs are built by
 * this bench (outside the measured CPU) and only the store's `putMessages` is timed, so trees from before
 * `forEachBatchItem`/`inputOf` were exported (e.g. November's `6c7dfa6`) compare too.
 * Usage: node dist/bench/put-path.js [<treeA> <treeB>] [--messages n] [--pairs n] [--sizes 1024,128] [--store-only]
 *   [--tags] (each message has a TAGS property too)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const batchSize = 64;
const inFlight = 16;
const queues = 8;

interface PutPathRun {
  nsPerMsg: number;
  /** User CPU only: the JavaScript's share, without the kernel's page-cache copy (which swings with the VM's memory state). */
  userNsPerMsg: number;
  load1: number;
}

/** One run in this process against `tree`'s modules. */
async function measure(
  tree: string,
  bodyBytes: number,
  messages: number,
  storeOnly: boolean,
  generalPath: boolean,
  tags: boolean,
): Promise<PutPathRun> {
  const codec = storeOnly ? {} : await import(path.join(tree, 'dist/src/broker/processors/batch-codec.js'));
  const send = storeOnly ? {} : await import(path.join(tree, 'dist/src/broker/processors/send.js'));
  const { createMessageStore } = await import(path.join(tree, 'dist/src/store/index.js'));
  const { setLogLevel } = await import(path.join(tree, 'dist/src/common/log.js'));
  setLogLevel('warn');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrocket-put-path-'));
  const store = createMessageStore({ storePathRootDir: dir });
  await store.start();
  try {
    // What the SDK sends for a plain message: WAIT and a 32-digit UNIQ_KEY (batch.ts).
    // `--tags`: a TAGS property too (what a producer that sets a tag sends).
    const tagsProp = tags ? 'TAGS\u0001TagA\u0002' : '';
    const props = (i: number) =>
      Buffer.from(
        `${tagsProp}WAIT\u0001true\u0002UNIQ_KEY\u00017F0000010E1C18B4AAC2${i.toString(16).padStart(12, '0')}\u0002`,
      );
    const batchBody = (seed: number) => {
      const parts: Buffer[] = [];
      for (let i = 0; i < batchSize; i++) {
        const p = props(seed * batchSize + i);
        const head = Buffer.alloc(20);
        head.writeInt32BE(20 + bodyBytes + 2 + p.length, 0);
        head.writeInt32BE(bodyBytes, 16);
        const body = Buffer.alloc(bodyBytes, 0x61);
        body.writeUInt32BE(seed * batchSize + i);
        const propLen = Buffer.alloc(2);
        propLen.writeUInt16BE(p.length);
        parts.push(head, body, propLen, p);
      }
      return Buffer.concat(parts);
    };
    const bodies = Array.from({ length: 32 }, (_, i) => batchBody(i));
    // Trees with the plain-batch path (send.plainBatchOf + store.putPlainBatch) take it, as their broker does.
    const plain = !generalPath && typeof send.plainBatchOf === 'function' && typeof store.putPlainBatch === 'function';
    const brokerCtx = { config: { maxMessageSize: 4 * 1024 * 1024, maxPropertiesBytes: 32 * 1024 } };
    const header = { sysFlag: 0, bornTimestamp: BigInt(Date.now()), reconsumeTimes: 0 };
    /** CPU spent building inputs in store-only mode, taken out of the measurement. */
    let buildUs = 0;
    const storeBodies = Array.from({ length: batchSize }, (_, i) => {
      const body = Buffer.alloc(bodyBytes, 0x61);
      body.writeUInt32BE(i);
      return body;
    });
    const storeInputs = (k: number, queueId: number) => {
      const b0 = process.cpuUsage();
      const inputs = Array.from({ length: batchSize }, (_, i) => {
        const uniqKey = `7F0000010E1C18B4AAC2${(k * batchSize + i).toString(16).padStart(12, '0')}`;
        return {
          topic: 'PutPathTopic',
          queueId,
          flag: 0,
          body: storeBodies[i] as Buffer,
          properties: Buffer.from(`WAIT\u0001true\u0002UNIQ_KEY\u0001${uniqKey}\u0002`),
          sysFlag: 0,
          bornTimestamp: header.bornTimestamp,
          bornHost: '127.0.0.1:40000',
          reconsumeTimes: 0,
          preparedTransactionOffset: 0n,
          tagsCode: 0n,
          keys: undefined,
          uniqKey,
          transactionPrepared: false,
          scheduled: false,
          replyRequest: false,
        };
      });
      const b1 = process.cpuUsage(b0);
      buildUs += b1.user + b1.system;
      return inputs;
    };
    const putOne = async (k: number) => {
      const queueId = k % queues;
      let inputs: unknown[] = [];
      if (plain && !storeOnly) {
        // The send processor's plain-batch path: the items as places in the request, stored from its bytes.
        const b = send.plainBatchOf(
          brokerCtx,
          bodies[k % bodies.length],
          'PutPathTopic',
          queueId,
          header,
          '127.0.0.1:40000',
        );
        if (b === undefined) throw new Error('the bench batch is not plain');
        const r = await store.putPlainBatch(b);
        if (r.msgNum !== batchSize) throw new Error(`put answered ${String(r.status)} ${String(r.remark)}`);
        return;
      }
      if (storeOnly) inputs = storeInputs(k, queueId);
      else {
        const bad = codec.forEachBatchItem(
          bodies[k % bodies.length],
          (flag: number, body: Buffer, properties: Buffer) => {
            inputs.push(send.inputOf('PutPathTopic', queueId, flag, body, properties, header, '127.0.0.1:40000'));
            return undefined;
          },
        );
        if (bad !== undefined) throw new Error(bad);
      }
      const r = await store.putMessages(inputs);
      if (r.msgNum !== batchSize) throw new Error(`put answered ${String(r.status)} ${String(r.remark)}`);
    };
    const run = async (batches: number) => {
      let next = 0;
      const lane = async () => {
        while (next < batches) await putOne(next++);
      };
      await Promise.all(Array.from({ length: inFlight }, lane));
    };
    await run(Math.ceil(Math.min(messages, 120_000) / batchSize));
    buildUs = 0;
    const c0 = process.cpuUsage();
    const batches = Math.ceil(messages / batchSize);
    await run(batches);
    const c = process.cpuUsage(c0);
    const us = c.user + c.system - buildUs;
    // buildUs (store-only) is user and system together; taken from the user time, where that work runs.
    const n = batches * batchSize;
    return { nsPerMsg: (us * 1000) / n, userNsPerMsg: ((c.user - buildUs) * 1000) / n, load1: os.loadavg()[0] ?? 0 };
  } finally {
    await store.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    messages: { type: 'string' },
    pairs: { type: 'string' },
    sizes: { type: 'string' },
    child: { type: 'boolean' },
    'store-only': { type: 'boolean' },
    'general-path': { type: 'boolean' },
    tags: { type: 'boolean' },
  },
});
const messages = Number(values.messages ?? 400_000);
const storeOnly = values['store-only'] === true;
/** `--general-path`: the batch decoded into a put input per item (`forEachBatchItem` + `inputOf`) even where the tree has the plain-batch path. */
const generalPath = values['general-path'] === true;
const tags = values.tags === true;
if (values.child === true) {
  const [tree, size] = positionals;
  console.log(JSON.stringify(await measure(tree ?? '', Number(size), messages, storeOnly, generalPath, tags)));
  process.exit(0);
}
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const trees = positionals.length === 0 ? [here] : positionals.map((t) => path.resolve(t));
const pairs = Number(values.pairs ?? (trees.length === 1 ? 1 : 3));
const sizes = (values.sizes ?? '1024,128').split(',').map(Number);
const results = new Map<string, number[]>();
const userResults = new Map<string, number[]>();
for (let p = 0; p < pairs; p++) {
  for (const size of sizes) {
    for (const [i, tree] of trees.entries()) {
      const out = execFileSync(
        process.execPath,
        [
          fileURLToPath(import.meta.url),
          '--child',
          tree,
          String(size),
          '--messages',
          String(messages),
          ...(storeOnly ? ['--store-only'] : []),
          ...(generalPath ? ['--general-path'] : []),
          ...(tags ? ['--tags'] : []),
        ],
        { encoding: 'utf8' },
      );
      const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as PutPathRun;
      const key = `${i}:${size}`;
      results.set(key, [...(results.get(key) ?? []), r.nsPerMsg]);
      userResults.set(key, [...(userResults.get(key) ?? []), r.userNsPerMsg]);
      console.log(
        `${i === 0 ? 'A' : 'B'} ${String(size).padStart(4)} B  ${r.nsPerMsg.toFixed(0).padStart(5)} CPU ns/msg ` +
          `(user ${r.userNsPerMsg.toFixed(0).padStart(5)})  ` +
          `load ${r.load1.toFixed(1)}  ${path.basename(tree)}`,
      );
    }
  }
}
if (trees.length === 2) {
  const mean = (m: Map<string, number[]>, key: string) => {
    const xs = m.get(key) ?? [];
    return xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  };
  /** The median: one run of a pair that met a mark-compact or fresh memory moves the mean by 10–50 % here. */
  const median = (m: Map<string, number[]>, key: string) => {
    const xs = [...(m.get(key) ?? [])].sort((a, b) => a - b);
    const h = Math.floor(xs.length / 2);
    return xs.length % 2 === 1 ? (xs[h] as number) : ((xs[h - 1] as number) + (xs[h] as number)) / 2;
  };
  for (const size of sizes) {
    const ratio = (m: Map<string, number[]>, f: typeof mean) => (f(m, `1:${size}`) / f(m, `0:${size}`)).toFixed(2);
    console.log(
      `${size} B: CPU per message B / A = ${ratio(results, mean)} (medians ${ratio(results, median)}; ` +
        `user CPU ${ratio(userResults, mean)}, medians ${ratio(userResults, median)})`,
    );
  }
}
console.log(
  JSON.stringify({
    trees,
    messages,
    pairs,
    results: Object.fromEntries(results),
    userResults: Object.fromEntries(userResults),
  }),
);
