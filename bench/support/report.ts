/** Targets as PASS/MISS rows: printed as a table and written as JSON under bench/results/. */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type Verdict = 'PASS' | 'MISS';

export interface TargetRow {
  target: string;
  measured: string;
  goal: string;
  verdict: Verdict;
}

export function check(target: string, measured: string, goal: string, ok: boolean): TargetRow {
  return { target, measured, goal, verdict: ok ? 'PASS' : 'MISS' };
}

/** bench/results in the source tree (this file runs from dist/bench/support/). */
export const resultsDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'bench',
  'results',
);

export async function writeResults(name: string, rows: TargetRow[], details: Record<string, unknown>): Promise<string> {
  console.table(rows);
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.json`);
  const out = {
    targets: Object.fromEntries(
      rows.map((r) => [r.target, { measured: r.measured, goal: r.goal, verdict: r.verdict }]),
    ),
    ...details,
    // Other work on the machine skews every number: keep the load next to them.
    machine: { cpus: os.cpus().length, loadavg: os.loadavg(), totalMemBytes: os.totalmem() },
    at: new Date().toISOString(),
  };
  await writeFile(file, `${JSON.stringify(out, null, 2)}\n`);
  return file;
}

export const mib = 1024 * 1024;

export function fmtMiB(bytes: number): string {
  return `${(bytes / mib).toFixed(0)} MiB`;
}
