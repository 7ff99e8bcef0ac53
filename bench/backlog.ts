/**
 * Backlog benchmark (`npm run bench:backlog`, not in CI): a real `tsrocket start` child on loopback stores
 * `--count` 100-byte messages (default 100 million) sent in batches with a bounded in-flight window, and shows
 *  - produce TPS with the backlog ≥ 90 % of the empty broker's (same generator, same window length);
 *  - the cold-tail drain (the oldest `--consume-mib` of the log, far behind the write position, read by 8
 *    consumers with the page cache dropped) ≥ 50 % of the warm drain of the same bytes right after it (page cache),
 *    median of `--pairs` cold/warm pairs; the disk's sequential read MiB/s (a probe file read cold) is reported
 *    beside it as information (on a VM whose disk the host caches it measures the host's cache, not a limit);
 *  - broker RSS ≤ 512 MiB throughout (VmRSS sampled every second).
 * Writes bench/results/backlog.json with PASS/MISS per target.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Producer } from '../src/client/index.js';
import { setLogLevel } from '../src/common/log.js';
import { RemotingClient } from '../src/remoting/client.js';
import { dropCaches, freeBytes, sequentialReadMiBps, writeProbeFile } from './support/disk.js';
import {
  brokerReady,
  cpuUs,
  diskReadBytes,
  freePort,
  pollUntil,
  RssSampler,
  routeReady,
  spawnStart,
  stopChild,
} from './support/process.js';
import { check, fmtMiB, mib, writeResults } from './support/report.js';
import { createTopic, type DrainResult, drainQueues, sendWindow } from './support/wire.js';

setLogLevel('warn');
const { values: a } = parseArgs({
  options: {
    count: { type: 'string', default: '100000000' },
    'body-bytes': { type: 'string', default: '100' },
    batch: { type: 'string', default: '128' },
    inflight: { type: 'string', default: '8' },
    queues: { type: 'string', default: '8' },
    'window-s': { type: 'string', default: '10' },
    'warmup-s': { type: 'string', default: '3' },
    'consume-mib': { type: 'string', default: '2048' },
    'probe-mib': { type: 'string', default: '2048' },
    pairs: { type: 'string', default: '2' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'cpu-prof-dir': { type: 'string' },
  },
});
const num = (k: keyof typeof a) => Number(a[k]);
const bodyBytes = num('body-bytes');
const windowMs = num('window-s') * 1000;
const topic = 'BacklogBench';
const group = 'backlog_bench_reader';
const rssLimitBytes = 512 * mib;
/** Stored bytes per message beyond the body: record header + topic + properties, ConsumeQueue, IndexFile. */
const overheadBytesPerMsg = 180;
const diskHeadroomBytes = 4 * 1024 * mib;

const parent = path.resolve(a.dir ?? os.tmpdir());
await mkdir(parent, { recursive: true });
let count = num('count');
const needBytes = count * (bodyBytes + overheadBytesPerMsg) + num('probe-mib') * mib;
const free = freeBytes(parent) ?? 0;
const scaledDown = needBytes + diskHeadroomBytes > free;
if (scaledDown) {
  count = Math.floor((free - diskHeadroomBytes - num('probe-mib') * mib) / (bodyBytes + overheadBytesPerMsg));
  console.log(`only ${fmtMiB(free)} free under ${parent}: scaling --count down to ${count}`);
}
const root = await mkdtemp(path.join(parent, 'tsrocket-backlog-'));
const namesrvPort = await freePort();
const brokerPort = await freePort();
const broker = spawnStart({
  dataDir: path.join(root, 'data'),
  logFile: path.join(root, 'broker.log'),
  namesrvPort,
  brokerPort,
  nodeArgs: a['cpu-prof-dir'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(a['cpu-prof-dir'])],
});
const rss = new RssSampler(broker.pid);
rss.start();
const rc = new RemotingClient({ requestTimeoutMsDefault: 10_000 });
const producer = new Producer({ nameServer: broker.namesrvAddr, sendTimeoutMs: 10_000, retryTimesWhenSendFailed: 0 });
const tps = (r: { acked: number; ms: number }) => r.acked / (r.ms / 1000);
let stored = 0;
const load = { topic, bodyBytes, batch: num('batch'), window: num('inflight') };

try {
  await pollUntil(() => routeReady(rc, broker.namesrvAddr, 'TBW102'), 30_000, 'namesrv route');
  await pollUntil(() => brokerReady(rc, broker.brokerAddr, 'TBW102'), 30_000, 'broker');
  await createTopic(rc, broker.brokerAddr, topic, num('queues'));
  await pollUntil(() => routeReady(rc, broker.namesrvAddr, topic), 60_000, `route of ${topic}`);
  await producer.start();

  rss.enter('warmup');
  const warm = await sendWindow(producer, { ...load, untilMs: performance.now() + num('warmup-s') * 1000 });
  if (warm.firstError !== undefined) throw warm.firstError;
  stored += warm.acked;

  rss.enter('empty-window');
  const empty = await sendWindow(producer, { ...load, untilMs: performance.now() + windowMs });
  stored += empty.acked;
  console.log(`empty broker: ${Math.round(tps(empty))} msgs/s over ${(empty.ms / 1000).toFixed(1)} s`);

  rss.enter('fill');
  const fillStart = performance.now();
  let lastPrint = fillStart;
  let lastAcked = 0;
  const fill = await sendWindow(producer, {
    ...load,
    count: Math.max(0, count - stored),
    onAck: (acked) => {
      const now = performance.now();
      if (now - lastPrint < 5000) return;
      const rate = (acked - lastAcked) / ((now - lastPrint) / 1000);
      console.log(`fill: ${stored + acked} stored, ${Math.round(rate)} msgs/s, broker RSS ${fmtMiB(rss.maxBytes)} max`);
      lastPrint = now;
      lastAcked = acked;
    },
  });
  if (fill.failed > 0) console.log(`fill: ${fill.failed} failed, first: ${fill.firstError?.message}`);
  stored += fill.acked;
  console.log(`backlog: ${stored} messages stored (fill ${fill.acked > 0 ? Math.round(tps(fill)) : '-'} msgs/s)`);

  rss.enter('backlog-window');
  const full = await sendWindow(producer, { ...load, untilMs: performance.now() + windowMs });
  stored += full.acked;
  console.log(`with backlog: ${Math.round(tps(full))} msgs/s`);

  // Disk sequential read bandwidth, cold, in this run.
  rss.enter('cold-read');
  const probe = path.join(root, 'disk-probe');
  await writeProbeFile(probe, num('probe-mib') * mib);
  const dropped = await dropCaches();
  const disk = await sequentialReadMiBps(probe);
  await rm(probe);
  console.log(`disk sequential read (cold=${dropped}): ${disk.mibPerSec.toFixed(0)} MiB/s`);

  // The oldest messages, with the page cache dropped: what a consumer that fell far behind reads (the cold tail
  // of its lag); then the same span again from the page cache. Pairs alternate, so neither side gets all the
  // JIT warm-up or all of a neighbour's load.
  rss.enter('drain');
  const drainOpts = { group, topic, queues: num('queues'), maxMsgNums: 1024, bytesMax: num('consume-mib') * mib };
  const pairs: { cold: Drained; warm: Drained; ratio: number }[] = [];
  let allDropped = dropped;
  for (let i = 0; i < Math.max(1, num('pairs')); i++) {
    allDropped = (await dropCaches()) && allDropped;
    const cold = await timedDrain(drainOpts);
    const warm = await timedDrain(drainOpts);
    pairs.push({ cold, warm, ratio: cold.mibPerSec / warm.mibPerSec });
    console.log(
      `pair ${i + 1}: cold ${describe(cold)}; broker read ${fmtMiB(cold.diskReadBytes)} from disk | warm ${describe(warm)} | cold / warm ${(cold.mibPerSec / warm.mibPerSec).toFixed(2)}`,
    );
  }
  await rss.sample();
  const medianPair = [...pairs].sort((x, y) => x.ratio - y.ratio)[
    Math.floor((pairs.length - 1) / 2)
  ] as (typeof pairs)[0];
  const coldMiBps = medianPair.cold.mibPerSec;

  const ratioTps = tps(full) / tps(empty);
  const ratioCold = medianPair.ratio;
  const rows = [
    check(
      'produce TPS with backlog / empty',
      `${(ratioTps * 100).toFixed(1)} % (${Math.round(tps(full))} / ${Math.round(tps(empty))} msgs/s)`,
      '>= 90 %',
      ratioTps >= 0.9,
    ),
    check(
      'cold-tail drain / warm drain of the same bytes',
      `${(ratioCold * 100).toFixed(1)} % (${coldMiBps.toFixed(0)} / ${medianPair.warm.mibPerSec.toFixed(0)} MiB/s, median of ${pairs.length} pair(s), the lower middle one${allDropped ? '' : '; page cache NOT dropped'})`,
      '>= 50 %',
      ratioCold >= 0.5 && allDropped,
    ),
    check('broker RSS max', fmtMiB(rss.maxBytes), '<= 512 MiB', rss.maxBytes <= rssLimitBytes),
  ];
  console.log(
    `(information) cold tail / disk sequential read: ${((coldMiBps / disk.mibPerSec) * 100).toFixed(1)} % (${coldMiBps.toFixed(0)} / ${disk.mibPerSec.toFixed(0)} MiB/s)`,
  );
  const file = await writeResults('backlog', rows, {
    params: { ...a, count, scaledDown, requestedCount: num('count') },
    stored,
    produce: {
      emptyTps: tps(empty),
      backlogTps: tps(full),
      fillTps: tps(fill),
      windowMs,
      failed: empty.failed + fill.failed + full.failed,
    },
    disk: { ...disk, cacheDropped: allDropped, coldTailOfDisk: coldMiBps / disk.mibPerSec },
    drains: pairs,
    coldConsume: medianPair.cold,
    warmConsume: medianPair.warm,
    rss: { maxBytes: rss.maxBytes, samples: rss.samples, byPhase: rss.byPhase() },
  });
  console.log(`wrote ${file}`);
} finally {
  rss.stop();
  await producer.shutdown().catch(() => undefined);
  await rc.close();
  await stopChild(broker, 'SIGTERM');
  if (!a.keep) await rm(root, { recursive: true, force: true });
  else console.log(`kept ${root}`);
}
process.exit(0);

interface Drained extends DrainResult {
  mibPerSec: number;
  msgsPerSec: number;
  /** Broker CPU µs per message over the drain. */
  brokerCpuUsPerMsg: number;
  /** Bytes the broker made the block layer read (page-cache hits do not count). */
  diskReadBytes: number;
}

async function timedDrain(o: Parameters<typeof drainQueues>[2]): Promise<Drained> {
  const io0 = (await diskReadBytes(broker.pid)) ?? 0;
  const cpu0 = (await cpuUs(broker.pid)) ?? 0;
  const d = await drainQueues(rc, broker.brokerAddr, o);
  const cpu = ((await cpuUs(broker.pid)) ?? 0) - cpu0;
  const io = ((await diskReadBytes(broker.pid)) ?? 0) - io0;
  const s = d.ms / 1000;
  return {
    ...d,
    mibPerSec: d.bytes / mib / s,
    msgsPerSec: d.records / s,
    brokerCpuUsPerMsg: cpu / Math.max(1, d.records),
    diskReadBytes: io,
  };
}

function describe(d: Drained): string {
  return `${d.records} msgs, ${fmtMiB(d.bytes)} in ${(d.ms / 1000).toFixed(1)} s = ${d.mibPerSec.toFixed(0)} MiB/s, ${Math.round(d.msgsPerSec)} msgs/s, broker ${d.brokerCpuUsPerMsg.toFixed(2)} CPU-µs/msg`;
}
