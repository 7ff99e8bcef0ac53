/** Benchmark output: the live per-second line, the summary table and the JSON result file. */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BenchKind } from './options.js';
import type { LatencySummary } from './stats.js';

export interface BenchSummary {
  name: string;
  kind: BenchKind;
  target: string;
  topic: string;
  bodyBytes: number;
  window: number;
  batch: number;
  /** Flush mode of the embedded broker; null for a remote cluster. */
  flush: string | null;
  durationMs: number;
  /** Messages acknowledged by the broker (produce), or received (consume / e2e). */
  messages: number;
  sendFailed: number;
  /** Messages per second over the measured phase. */
  tps: number;
  /** Body megabytes (2^20) per second. */
  mbPerSec: number;
  /** Send round trip (one request; a batch counts once), ms. */
  sendRtMs: LatencySummary | null;
  /** Producer TPS of the consume/e2e run's send phase (null for produce). */
  produceTps: number | null;
  /** Born (send start) → handed to the consumer handler, ms (e2e only). */
  e2eMs: LatencySummary | null;
  brokerRssBytes: number | null;
  /**
   * Process CPU (user + system) per message over the measured phase, µs. Embedded runs hold client and broker in
   * this process, so it is the whole system's cost and far less sensitive to a busy machine than TPS.
   */
  cpuUsPerMsg: number | null;
}

export interface ProgressSink {
  /** One status line; `\r`-rewritten on a TTY, a plain line otherwise. */
  line(text: string): void;
  /** Ends a `\r` line before other output. */
  end(): void;
}

/** A sink writing to `stream`, or a silent one when stream is null (library use). */
export function progressSink(stream: NodeJS.WriteStream | null = process.stdout): ProgressSink {
  if (stream === null) return { line: () => undefined, end: () => undefined };
  const tty = stream.isTTY === true;
  let open = false;
  return {
    line(text) {
      if (tty) {
        stream.write(`\r${text.padEnd(Math.min(stream.columns ?? 120, 160) - 1)}`);
        open = true;
      } else {
        stream.write(`${text}\n`);
      }
    },
    end() {
      if (open) stream.write('\n');
      open = false;
    },
  };
}

/** Calls `tick` every second until the returned stop function is called. */
export function everySecond(tick: (elapsedS: number) => void): () => void {
  const started = performance.now();
  const timer = setInterval(() => tick(Math.round((performance.now() - started) / 1000)), 1000);
  return () => clearInterval(timer);
}

function fmt(x: number | null | undefined, digits = 0): string {
  return x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);
}

const columns: ReadonlyArray<[string, (s: BenchSummary) => string]> = [
  ['name', (s) => s.name],
  ['size', (s) => String(s.bodyBytes)],
  ['w', (s) => String(s.window)],
  ['batch', (s) => String(s.batch)],
  ['flush', (s) => s.flush ?? '-'],
  ['msgs', (s) => String(s.messages)],
  ['TPS', (s) => fmt(s.tps)],
  ['MB/s', (s) => fmt(s.mbPerSec, 2)],
  ['rt p50', (s) => fmt(s.sendRtMs?.p50, 2)],
  ['rt p99', (s) => fmt(s.sendRtMs?.p99, 2)],
  ['rt p999', (s) => fmt(s.sendRtMs?.p999, 2)],
  ['e2e p50', (s) => fmt(s.e2eMs?.p50, 2)],
  ['e2e p99', (s) => fmt(s.e2eMs?.p99, 2)],
  ['e2e p999', (s) => fmt(s.e2eMs?.p999, 2)],
  ['e2e max', (s) => fmt(s.e2eMs?.max, 2)],
  ['cpu µs/msg', (s) => fmt(s.cpuUsPerMsg, 1)],
  ['fail', (s) => String(s.sendFailed)],
  ['RSS MiB', (s) => (s.brokerRssBytes === null ? '-' : fmt(s.brokerRssBytes / 2 ** 20))],
];

/** A fixed-width text table of summaries (latencies in ms). */
export function formatTable(rows: readonly BenchSummary[]): string {
  const cells = rows.map((r) => columns.map(([, get]) => get(r)));
  const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (vals: readonly string[]) =>
    vals.map((v, i) => (i === 0 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join('  ');
  return [line(columns.map(([h]) => h)), ...cells.map(line)].join('\n');
}

/** "grpc-produce-128 / produce-128: TPS 0.62×, CPU/msg 1.40×" for each gRPC run with a remoting run to compare. */
export function ratioLines(rows: readonly BenchSummary[]): string[] {
  const out: string[] = [];
  for (const g of rows) {
    if (g.kind !== 'grpc-produce') continue;
    const r = rows.find((x) => x.kind === 'produce' && x.bodyBytes === g.bodyBytes && x.flush === g.flush);
    if (r === undefined || r.tps === 0) continue;
    const cpu =
      g.cpuUsPerMsg !== null && r.cpuUsPerMsg !== null && r.cpuUsPerMsg > 0
        ? `, CPU/msg ${(g.cpuUsPerMsg / r.cpuUsPerMsg).toFixed(2)}×`
        : '';
    out.push(`${g.name} / ${r.name}: TPS ${(g.tps / r.tps).toFixed(2)}×${cpu}`);
  }
  return out;
}

export interface ResultFile {
  commit: string | null;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; platform: string; node: string };
  startedAt: string;
  results: BenchSummary[];
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    return null;
  }
}

/** Writes `<dir>/<name>.json` with the machine and commit; returns its path. */
export async function writeResults(
  dir: string,
  name: string,
  results: BenchSummary[],
  startedAt: Date,
): Promise<string> {
  const file: ResultFile = {
    commit: gitCommit(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryBytes: os.totalmem(),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
    },
    startedAt: startedAt.toISOString(),
    results,
  };
  await mkdir(dir, { recursive: true });
  const out = path.join(dir, `${name}.json`);
  await writeFile(out, `${JSON.stringify(file, null, 2)}\n`);
  return out;
}
