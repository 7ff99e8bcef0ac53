/**
 * Workload (d), tsrocket only: batch send of 1 KiB, SYNC_FLUSH with 1 and 64 concurrent producers, and
 * 4 producers + 4 consumers in one group on one topic. When the broker runs in a memory cgroup (--page-cache), the
 * batch send is measured once more at the end with the cgroup's limit lifted (`batch-1k-free-pool`: the broker's
 * writes take pages from the free pool as found — on a VM that reports freed pages to its host, fresh pages once the
 * memory freed moments before is used up, as the allocator hands that out first).
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { type Message, Producer, type PullConsumer } from '../../src/client/index.js';
import { type CpuPerMessage, CpuProbe } from './cpu.js';
import { bodySeq, DeliveryCounter, makeBody, runClosedLoop, runWindowed } from './load.js';
import { memoryStateLabel } from './memory-cgroup.js';
import type { ModeOptions } from './peer.js';
import { memoryCgroupOf } from './processes.js';
import { Durability, type Measurement, ModeKind, ownSystem } from './results.js';
import { sendChecked, startConsumer, startTsrocket, type TsrocketSession } from './tsrocket.js';

export interface ExtraOptions extends ModeOptions {
  count: number;
  syncSeconds: number;
}

type Row = Omit<Measurement, 'system' | 'kind' | 'serverCpuUsPerMsg' | 'clientCpuUsPerMsg'> & { kind?: ModeKind };

function rowOf(r: Row, cpu: CpuPerMessage | undefined): Measurement {
  return { system: ownSystem, kind: ModeKind.idiomatic, ...r, ...cpu };
}

const mib = 1024 * 1024;
/** Batches in flight at once for the batch-send case. */
const batchWindow = 8;

async function withProducers<T>(nameServer: string, n: number, fn: (ps: Producer[]) => Promise<T>): Promise<T> {
  const ps = Array.from({ length: n }, (_, i) => new Producer({ nameServer, group: `bench_p${i}` }));
  await Promise.all(ps.map((p) => p.start()));
  try {
    return await fn(ps);
  } finally {
    await Promise.all(ps.map((p) => p.shutdown()));
  }
}

/** Batch send and 4P+4C on the ASYNC_FLUSH server already running. */
export async function runAsyncExtras(
  session: TsrocketSession,
  serverGroups: readonly number[],
  opts: ExtraOptions,
  note: (line: string) => void,
): Promise<Measurement[]> {
  const out: Measurement[] = [];
  const pageCache = Durability.pageCache;
  const template = crypto.randomBytes(1024);

  await session.prepare('bench_batch');
  const batches = Math.ceil(opts.count / opts.batchSize);
  const runBatch = async () => {
    const probe = new CpuProbe(serverGroups);
    const batch = await withProducers(session.nameServer, 1, ([p]) =>
      runWindowed(batches, batchWindow, (b) => {
        const msgs: Message[] = Array.from({ length: opts.batchSize }, (_, i) => ({
          topic: 'bench_batch',
          body: makeBody(template, b * opts.batchSize + i),
        }));
        return sendChecked(p as Producer, msgs);
      }),
    );
    return { msgs: (batches * opts.batchSize) / batch.seconds, cpu: probe.perMessage(batches * opts.batchSize) };
  };
  const { msgs: batchMsgs, cpu: batchCpu } = await runBatch();
  const batchMode = `sendBatch-${opts.batchSize}×${batchWindow}`;
  const best = ModeKind.best;
  out.push(
    rowOf(
      { workload: 'batch-1k', mode: batchMode, kind: best, durability: pageCache, value: batchMsgs, unit: 'msg/s' },
      batchCpu,
    ),
    rowOf(
      {
        workload: 'batch-1k-MiB',
        mode: batchMode,
        kind: best,
        durability: pageCache,
        value: (batchMsgs * 1024) / mib,
        unit: 'MiB/s',
      },
      batchCpu,
    ),
  );
  note(
    `tsrocket batch send 1 KiB ×${opts.batchSize}: ${batchMsgs.toFixed(0)} msg/s, ${((batchMsgs * 1024) / mib).toFixed(1)} MiB/s, broker ${batchCpu.serverCpuUsPerMsg.toFixed(2)} µs/msg`,
  );

  const topic = 'bench_4p4c';
  await session.prepare(topic);
  const per = Math.ceil(opts.count / 4);
  const total = per * 4;
  const counter = new DeliveryCounter(total, 60_000, 'tsrocket 4p4c');
  const consumers: PullConsumer[] = [];
  for (let i = 0; i < 4; i++) consumers.push(await startConsumer(session.nameServer, 'bench_4p4c_group', topic));
  let running = true;
  const loops = consumers.map(async (c) => {
    while (running) for (const m of await c.poll(200)) counter.add(bodySeq(m.body));
  });
  const t0 = performance.now();
  const probe = new CpuProbe(serverGroups);
  try {
    const produced = await withProducers(session.nameServer, 4, (ps) =>
      Promise.all(
        ps.map((p, k) =>
          runWindowed(per, Math.max(1, Math.floor(opts.window / 4)), (i) =>
            sendChecked(p, { topic, body: makeBody(template, k * per + i) }),
          ),
        ),
      ),
    );
    const produceSeconds = Math.max(...produced.map((r) => r.seconds));
    await counter.done;
    const consumeSeconds = (performance.now() - t0) / 1000;
    // One probe over both: producers and consumers run at once. CPU is per message produced (and consumed).
    const cpu = probe.perMessage(total);
    const mode = '4 Producer.send + 4 PullConsumer';
    out.push(
      rowOf(
        { workload: '4p4c-produce', mode, durability: pageCache, value: total / produceSeconds, unit: 'msg/s' },
        cpu,
      ),
      rowOf(
        { workload: '4p4c-consume', mode, durability: pageCache, value: total / consumeSeconds, unit: 'msg/s' },
        cpu,
      ),
    );
    note(
      `tsrocket 4P+4C 1 KiB: produce ${(total / produceSeconds).toFixed(0)} msg/s, all consumed at ${(total / consumeSeconds).toFixed(0)} msg/s`,
    );
  } finally {
    running = false;
    counter.cancel();
    await Promise.all(loops.map((l) => l.catch(() => undefined)));
    await Promise.all(consumers.map((c) => c.shutdown()));
  }

  const memory = memoryCgroupOf(serverGroups[0]);
  if (memory !== undefined) {
    memory.lift();
    const free = await runBatch();
    const state = memoryStateLabel(memory.budgetBytes / mib, true);
    out.push({
      ...rowOf(
        {
          workload: 'batch-1k-free-pool',
          mode: batchMode,
          kind: best,
          durability: pageCache,
          value: free.msgs,
          unit: 'msg/s',
        },
        free.cpu,
      ),
      memory: state,
    });
    note(
      `tsrocket batch send 1 KiB ×${opts.batchSize}, ${state}: ${free.msgs.toFixed(0)} msg/s, broker ${free.cpu.serverCpuUsPerMsg.toFixed(2)} µs/msg`,
    );
  }
  return out;
}

/** SYNC_FLUSH 1 and 64 producers (each awaits its send), on a SYNC_FLUSH server of its own. */
export async function runSyncFlush(
  dir: string,
  opts: ExtraOptions,
  note: (line: string) => void,
): Promise<Measurement[]> {
  const out: Measurement[] = [];
  const server = await startTsrocket(path.join(dir), 'SYNC_FLUSH', opts);
  try {
    const topic = 'bench_sync';
    await server.session.prepare(topic);
    const template = crypto.randomBytes(1024);
    for (const n of [1, 64]) {
      let seq = 0;
      const probe = new CpuProbe(server.serverGroups);
      const r = await withProducers(server.session.nameServer, n, (ps) =>
        runClosedLoop(n, opts.syncSeconds * 1000, (w) =>
          sendChecked(ps[w] as Producer, { topic, body: makeBody(template, seq++) }),
        ),
      );
      const cpu = probe.perMessage(r.count);
      const mode = `${n} Producer.send, each awaited`;
      out.push(
        rowOf(
          { workload: `sync-${n}`, mode, durability: Durability.fsyncPerBatch, value: r.msgsPerSec, unit: 'msg/s' },
          cpu,
        ),
      );
      note(`tsrocket SYNC_FLUSH ${n} producer(s) 1 KiB: ${r.msgsPerSec.toFixed(0)} msg/s`);
    }
  } finally {
    await server.stop();
  }
  return out;
}
