/**
 * A RemotingServer sets V8's scavenge mode for its process: serial when `scavengeParallel` is false (no
 * young-generation collection waits for a helper thread that is off-CPU on a busy machine), else V8's parallel one.
 * Observed in a child process through `--trace-gc-nvp`, whose scavenge lines report the helpers' share as
 * `background.scavenge.parallel` (ms).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const serverModule = new URL('../../src/remoting/server.js', import.meta.url).href;

/** The helpers' ms of each scavenge that ran after a server was built with `limits`. */
async function helperMsPerScavenge(limits: string): Promise<number[]> {
  const script = `
    const { RemotingServer } = await import(${JSON.stringify(serverModule)});
    new RemotingServer({ name: 'gc', port: 0, host: '127.0.0.1', fdLimit: 1024, limits: ${limits} });
    console.log('SERVER-BUILT');
    // A live young set worth copying (so that V8 hands work to helpers when allowed), churned through scavenges.
    const live = [];
    for (let i = 0; i < 400_000; i++) {
      live.push({ i, s: 'x' + i });
      if (live.length > 60_000) live.splice(0, 30_000);
    }`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--trace-gc-nvp', '--input-type=module', '-e', script],
    { cwd: fileURLToPath(new URL('.', import.meta.url)), maxBuffer: 64 * 1024 * 1024 },
  );
  const after = stdout.slice(stdout.indexOf('SERVER-BUILT'));
  const ms: number[] = [];
  for (const line of after.split('\n')) {
    if (!/\bgc=s\b/.test(line)) continue;
    const m = /\bbackground\.scavenge\.parallel=([\d.]+)/.exec(line);
    if (m !== null) ms.push(Number(m[1]));
  }
  return ms;
}

test('scavengeParallel: false: no scavenge after the server is built uses a helper thread', async () => {
  const ms = await helperMsPerScavenge('{ scavengeParallel: false }');
  assert.ok(ms.length >= 5, `expected scavenges, saw ${ms.length}`);
  assert.deepEqual(
    ms.filter((x) => x > 0),
    [],
  );
});

test('by default the helpers stay (the observation above can see them)', async () => {
  // A helper thread joins a scavenge only if it gets a core before the main thread has done the work alone: on a
  // busy machine a whole run can pass without one. Observed again (a bounded number of runs) until one joins.
  const seen: number[] = [];
  for (let run = 0; run < 10; run++) {
    const ms = await helperMsPerScavenge('{}');
    assert.ok(ms.length >= 5, `expected scavenges, saw ${ms.length}`);
    seen.push(...ms);
    if (ms.some((x) => x > 0)) return;
  }
  assert.fail(`helpers took no part in ${seen.length} scavenges over 10 runs`);
});
