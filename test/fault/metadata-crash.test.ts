/**
 * Crash test with real processes: a child persists consumer offsets and topics in a loop; the parent SIGKILLs
 * it at random moments, then loads both files. They must always load (never unreadable, never empty), hold at
 * least the last state the child saw saved, and leave no temp files behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { brokerConfigOf } from '../../src/broker/config.js';
import { ConsumerOffsetManager } from '../../src/broker/metadata/consumer-offsets.js';
import { TopicConfigManager } from '../../src/broker/metadata/topic-config.js';
import { seededRandom } from '../../src/store/fault-io.js';
import { tempDir } from '../store/helpers.js';

const seed = Number(process.env['METADATA_CRASH_SEED'] ?? Date.now() % 1_000_000);
console.log(`metadata crash seed=${seed} (METADATA_CRASH_SEED to replay)`);
const random = seededRandom(seed);
const childPath = fileURLToPath(new URL('./metadata-crash-child.js', import.meta.url));
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

/** Runs the child from `from` for `ms` after it is ready, SIGKILLs it; returns the last `saved` it printed. */
function runChild(dir: string, from: number, ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childPath, '--metadata-crash-child', dir, String(from)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSROCKET_LOG_LEVEL: 'error' },
    });
    let saved = from;
    let pending = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
        if (line === 'ready') timer = setTimeout(() => child.kill('SIGKILL'), ms);
        const m = /^saved (\d+)$/.exec(line);
        if (m !== null) saved = Number(m[1]);
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code}: ${stderr}`));
      else resolve(saved);
    });
  });
}

test('SIGKILL while persisting in a loop never leaves an unreadable, empty or littered config', async () => {
  const d = await tempDir('tsrocket-meta-crash-');
  dirs.push(d);
  let from = 0;
  for (let round = 0; round < 8; round++) {
    const saved = await runChild(d, from, 40 + Math.floor(random() * 260));
    const offsets = new ConsumerOffsetManager(d);
    await offsets.load();
    const topics = new TopicConfigManager(brokerConfigOf({ storePathRootDir: d }));
    await topics.load();
    const n = Number(offsets.query('CrashG', 'CrashT', 0) ?? 0n);
    // The save in flight at the kill may or may not have landed; everything before it has.
    assert.ok(n >= saved && n <= saved + 1, `round ${round}: loaded offset ${n}, last saved ${saved}`);
    if (saved > 0) assert.ok(topics.get('CrashT') !== undefined, `round ${round}: topics lost`);
    const left = (await fs.readdir(path.join(d, 'config'))).filter((f) => f.includes('.tmp'));
    assert.deepEqual(left, [], `round ${round}: temp files left behind`);
    from = n;
  }
});
