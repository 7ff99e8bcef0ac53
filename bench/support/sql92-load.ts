/**
 * The SQL92 pull load of `npm run bench:sql92`, shared with `bench:paths`: a store filled in-process with messages
 * whose `bucket` property is seq % 100 (the SQL92 group's filter registered with the store's filter bitmap before
 * the fill), and drains of every queue from offset 0 to its end, one pull in flight per queue as a consumer does,
 * unfiltered (TAG `*`) or with the SQL92 subscription.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { bitmapPredicateOf } from '../../src/broker/filter/sql92-filter.js';
import { decodeKVTable } from '../../src/client/admin/bodies.js';
import { javaStringHashCode } from '../../src/common/hash.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import { PullSysFlag, RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { decodePullResponseHeader, encodePullHeader } from '../../src/remoting/protocol/pull.js';
import { createMessageStore, type MessageInput, PutStatus } from '../../src/store/index.js';
import { fillInput } from './fill-store.js';
import { cpuMsOfPid } from './window.js';

export const sqlGroup = 'bench_sql92';
/** One value of 100: 1 % of the messages match. */
export const sql = 'bucket = 7';
export const buckets = 100;

export interface Sql92Load {
  topic: string;
  messages: number;
  bodyBytes: number;
  queues: number;
  maxMsgNums: number;
  /** Register the filter with the store's bitmap before the fill (else every record is judged at pull time). */
  bitmap: boolean;
}

/** Appends the messages through the store API: each has TAGS, UNIQ_KEY, WAIT, `seq` and `bucket` = seq % 100. */
export async function fillSql92Store(dataDir: string, o: Sql92Load): Promise<{ ms: number; logBytes: number }> {
  const store = createMessageStore(
    { storePathRootDir: path.join(dataDir, 'broker') },
    { filterBitmap: o.bitmap ? bitmapPredicateOf : undefined },
  );
  await store.start();
  if (o.bitmap && store.filterBitmap?.register(o.topic, sqlGroup, sql) !== true)
    throw new Error('cannot register the filter');
  const body = Buffer.alloc(o.bodyBytes, 0x62);
  const tagsCode = BigInt(javaStringHashCode('bench'));
  const batch = 64;
  let seq = 0;
  const message = (queueId: number): MessageInput => {
    const n = seq++;
    return fillInput(o.topic, queueId, body, n, 'bench', tagsCode, { seq: String(n), bucket: String(n % buckets) });
  };
  const t0 = performance.now();
  try {
    await Promise.all(
      Array.from({ length: o.queues }, async (_, queueId) => {
        while (seq < o.messages) {
          const n = Math.min(batch, o.messages - seq);
          const r = await store.putMessages(Array.from({ length: n }, () => message(queueId)));
          if (r.status !== PutStatus.PUT_OK) throw new Error(`fill: ${r.status} ${r.remark ?? ''}`);
        }
      }),
    );
  } finally {
    await store.shutdown();
  }
  return { ms: performance.now() - t0, logBytes: Number(store.getMaxPhyOffset()) };
}

export interface Sql92Drain {
  mode: 'unfiltered' | 'sql92';
  /** Whole drains of every queue summed here. */
  passes: number;
  examined: number;
  delivered: number;
  deliveredBytes: number;
  pulls: number;
  ms: number;
  brokerCpuMs: number;
  /** The broker's main thread alone (the rest: libuv's thread pool, the read worker, GC threads). */
  brokerMainCpuMs: number;
  /** Voluntary context switches of all the broker's threads (each a sleep, then a wake-up), from /proc. */
  brokerWakeUps: number;
  /** Of those, the main thread's. */
  brokerMainWakeUps: number;
  /** CPU of this process (the client: requests out, answers in), ms. */
  clientCpuMs: number;
  /** The broker's read-ahead counters over the round (GET_BROKER_RUNTIME_INFO; 0 where it has none). */
  ahead: AheadCounts;
  /**
   * Time the queues' streams stood idle at the end of each pass, waiting for the slowest queue to reach its end (ms,
   * summed over the queues): a drain restarts every queue at 0 only once all are done.
   */
  idleStreamMs: number;
  /** Round-trip time of each stream's first `firstPullsOf` pulls of a pass (from offset 0), summed, and their count. */
  firstPullsMs: number;
  firstPulls: number;
  /** The same of its later pulls. */
  laterPullsMs: number;
  laterPulls: number;
}

/** Pulls of a stream counted as its first (`Sql92Drain.firstPullsMs`): the stream's start, its reads ahead not yet there. */
export const firstPullsOf = 3;

/** The store's `sparseReadAhead*` counters. */
export interface AheadCounts {
  scheduled: number;
  taken: number;
  takenBack: number;
  dropped: number;
  /** Sparse reads sent to the thread pool (slow blocking reads), read worker pauses (late wake-ups), its jobs. */
  toThreadPool: number;
  workerPauses: number;
  workerJobs: number;
  /**
   * Of the reads ahead the worker did: settled when their pull came, done but settled by the pull's look at the
   * worker's done ring (its message not handled yet), waited for (and for how long in all, µs).
   */
  ready: number;
  polled: number;
  waited: number;
  waitedUs: number;
}

const aheadKeys = {
  scheduled: 'sparseReadAheadScheduled',
  taken: 'sparseReadAheadTaken',
  takenBack: 'sparseReadAheadTakenBack',
  dropped: 'sparseReadAheadDropped',
  toThreadPool: 'sparseReadsToThreadPool',
  workerPauses: 'sparseReadWorkerPauses',
  workerJobs: 'sparseReadWorkerJobs',
  ready: 'sparseReadAheadReady',
  polled: 'sparseReadAheadPolled',
  waited: 'sparseReadAheadWaited',
  waitedUs: 'sparseReadAheadWaitedUs',
} as const;

async function aheadCountsOf(rc: RemotingClient, brokerAddr: string): Promise<AheadCounts> {
  const resp = await rc.invoke(brokerAddr, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO), 10_000);
  const table = resp.body === undefined ? {} : decodeKVTable(resp.body);
  const out = { ...noAhead };
  for (const k of Object.keys(aheadKeys) as Array<keyof AheadCounts>) out[k] = Number(table[aheadKeys[k]] ?? 0);
  return out;
}

const noAhead: AheadCounts = {
  scheduled: 0,
  taken: 0,
  takenBack: 0,
  dropped: 0,
  toThreadPool: 0,
  workerPauses: 0,
  workerJobs: 0,
  ready: 0,
  polled: 0,
  waited: 0,
  waitedUs: 0,
};

function aheadDiff(a: AheadCounts, b: AheadCounts): AheadCounts {
  const out = { ...noAhead };
  for (const k of Object.keys(aheadKeys) as Array<keyof AheadCounts>) out[k] = b[k] - a[k];
  return out;
}

/** Voluntary context switches of every thread of `pid`, and of its main thread (0 where /proc has none). */
async function wakeUpsOf(pid: number): Promise<{ all: number; main: number }> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  let all = 0;
  let main = 0;
  for (const t of tasks) {
    const status = await readFile(`/proc/${pid}/task/${t}/status`, 'utf8').catch(() => '');
    const m = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(status);
    const n = m === null ? 0 : Number(m[1]);
    all += n;
    if (t === String(pid)) main = n;
  }
  return { all, main };
}

/** Pulls every queue from 0 to its end (one pull in flight per queue). */
export async function drainSql92(
  rc: RemotingClient,
  brokerAddr: string,
  pid: number,
  mode: Sql92Drain['mode'],
  group: string,
  o: Sql92Load,
): Promise<Sql92Drain> {
  const out: Sql92Drain = {
    mode,
    passes: 1,
    examined: 0,
    delivered: 0,
    deliveredBytes: 0,
    pulls: 0,
    ms: 0,
    brokerCpuMs: 0,
    brokerMainCpuMs: 0,
    brokerWakeUps: 0,
    brokerMainWakeUps: 0,
    clientCpuMs: 0,
    ahead: { ...noAhead },
    idleStreamMs: 0,
    firstPullsMs: 0,
    firstPulls: 0,
    laterPullsMs: 0,
    laterPulls: 0,
  };
  const endedMs: number[] = [];
  const ahead0 = await aheadCountsOf(rc, brokerAddr);
  const wake0 = await wakeUpsOf(pid);
  const main0 = await mainThreadCpuMsOf(pid);
  const cpu0 = await cpuMsOfPid(pid);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.queues }, async (_, queueId) => {
      let offset = 0n;
      for (let nth = 0; ; nth++) {
        const req = createRequest(
          RequestCode.PULL_MESSAGE,
          encodePullHeader({
            consumerGroup: group,
            topic: o.topic,
            queueId,
            queueOffset: offset,
            maxMsgNums: o.maxMsgNums,
            sysFlag: PullSysFlag.subscription,
            commitOffset: 0n,
            suspendTimeoutMillis: 0,
            subscription: mode === 'sql92' ? sql : '*',
            subVersion: 0,
            expressionType: mode === 'sql92' ? 'SQL92' : 'TAG',
          }),
        );
        const sent = performance.now();
        const resp = await rc.invoke(brokerAddr, req, 30_000);
        if (nth < firstPullsOf) {
          out.firstPullsMs += performance.now() - sent;
          out.firstPulls++;
        } else {
          out.laterPullsMs += performance.now() - sent;
          out.laterPulls++;
        }
        out.pulls++;
        const h = decodePullResponseHeader(resp);
        const next = h.nextBeginOffset ?? offset;
        if (resp.code === ResponseCode.SUCCESS && resp.body !== undefined) {
          const body = resp.body;
          for (let p = 0; p + 4 <= body.length; p += body.readInt32BE(p)) out.delivered++;
          out.deliveredBytes += body.length;
        } else if (resp.code !== ResponseCode.PULL_RETRY_IMMEDIATELY) {
          if (resp.code !== ResponseCode.PULL_NOT_FOUND) throw new Error(`pull: ${resp.code} ${resp.remark ?? ''}`);
        }
        out.examined += Number(next - offset);
        offset = next;
        if (resp.code === ResponseCode.PULL_NOT_FOUND || (h.maxOffset !== undefined && offset >= h.maxOffset)) break;
      }
      endedMs.push(performance.now());
    }),
  );
  const t1 = performance.now();
  out.ms = t1 - t0;
  for (const e of endedMs) out.idleStreamMs += t1 - e;
  const client = process.cpuUsage(client0);
  out.clientCpuMs = (client.user + client.system) / 1000;
  out.brokerCpuMs = (await cpuMsOfPid(pid)) - cpu0;
  out.brokerMainCpuMs = (await mainThreadCpuMsOf(pid)) - main0;
  const wake1 = await wakeUpsOf(pid);
  out.brokerWakeUps = wake1.all - wake0.all;
  out.brokerMainWakeUps = wake1.main - wake0.main;
  out.ahead = aheadDiff(ahead0, await aheadCountsOf(rc, brokerAddr));
  return out;
}

/** CPU time of a process's main thread (ms), from /proc (0 where there is none). */
async function mainThreadCpuMsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/task/${pid}/stat`, 'utf8').catch(() => '');
  if (stat === '') return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Drains again until the round has run `minMs` (a filtered drain of 1 M takes ~0.1 s), summing the passes. */
export async function drainSql92For(minMs: number, ...args: Parameters<typeof drainSql92>): Promise<Sql92Drain> {
  const d = await drainSql92(...args);
  while (d.ms < minMs) {
    const more = await drainSql92(...args);
    d.passes++;
    d.examined += more.examined;
    d.delivered += more.delivered;
    d.deliveredBytes += more.deliveredBytes;
    d.pulls += more.pulls;
    d.ms += more.ms;
    d.brokerCpuMs += more.brokerCpuMs;
    d.brokerMainCpuMs += more.brokerMainCpuMs;
    d.brokerWakeUps += more.brokerWakeUps;
    d.brokerMainWakeUps += more.brokerMainWakeUps;
    d.clientCpuMs += more.clientCpuMs;
    d.idleStreamMs += more.idleStreamMs;
    d.firstPullsMs += more.firstPullsMs;
    d.firstPulls += more.firstPulls;
    d.laterPullsMs += more.laterPullsMs;
    d.laterPulls += more.laterPulls;
    d.idleStreamMs += more.idleStreamMs;
    d.firstPullsMs += more.firstPullsMs;
    d.firstPulls += more.firstPulls;
    d.laterPullsMs += more.laterPullsMs;
    d.laterPulls += more.laterPulls;
    for (const k of Object.keys(aheadKeys) as Array<keyof AheadCounts>) d.ahead[k] += more.ahead[k];
  }
  return d;
}

export const sql92ByteRate = (d: Sql92Drain) => d.deliveredBytes / (d.ms / 1000);
export const sql92MsgRate = (d: Sql92Drain) => d.examined / (d.ms / 1000);
export const bestSql92 = (ds: Sql92Drain[]) => ds.reduce((x, y) => (sql92ByteRate(y) > sql92ByteRate(x) ? y : x));

/** Matching messages among the first `messages` (seq % 100 === 7). */
export function expectedSql92Matches(messages: number): number {
  return Math.floor(messages / buckets) + (messages % buckets > 7 ? 1 : 0);
}
