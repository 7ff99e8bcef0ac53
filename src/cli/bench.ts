/** `tsrocket bench [produce|consume|e2e]`: runs a benchmark (or the default suite), prints a table, writes JSON. */

import { benchUsage, parseBenchArgs } from '../bench/options.js';
import { formatTable, progressSink, ratioLines, writeResults } from '../bench/report.js';
import { runners, runSuite } from '../bench/suite.js';
import type { CommandResult } from './lifecycle.js';

export async function runBench(argv: string[]): Promise<CommandResult> {
  const parsed = parseBenchArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(`${benchUsage}\n`);
    return 0;
  }
  const startedAt = new Date();
  const progress = progressSink(process.stdout);
  const { opts } = parsed;
  const results =
    parsed.kind === 'suite'
      ? await runSuite(
          opts,
          progress,
          argv.some((a) => /^(-d|--duration|-c|--count)(=|$)/.test(a)),
        )
      : [await runners[parsed.kind](opts, { progress })];
  const name = parsed.kind === 'suite' ? (opts.name ?? 'bench') : (results[0]?.name ?? parsed.kind);
  const file = await writeResults(opts.resultsDir, name, results, startedAt);
  const ratios = ratioLines(results);
  const ratioText = ratios.length === 0 ? '' : `\n${ratios.join('\n')}\n`;
  process.stdout.write(`\n${formatTable(results)}\n${ratioText}\nlatencies in ms; results written to ${file}\n`);
  return results.some((r) => r.messages === 0) ? 1 : 0;
}
