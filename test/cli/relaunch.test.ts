/**
 * The broker's nodeFlags key: `tsrocket start` / `tsrocket broker` re-run themselves with the flags (collector
 * flags act only when V8 starts); the launcher passes SIGTERM on and exits with the server, its death ends the
 * server, and a flag outside the accepted list is refused before anything starts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeFlagsProblem, splitNodeFlags } from '../../src/remoting/node-flags.js';
import { cliPath, Proc, startServer, stopAll, writeBrokerConf } from '../integration/procs.js';

const linux = existsSync('/proc/self/task');
const dirs: string[] = [];
after(async () => {
  await stopAll();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tsrocket-relaunch-'));
  dirs.push(d);
  return d;
}

/** The one child process of `pid` (the re-run server), from /proc. */
function childOf(pid: number): number {
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  assert.equal(kids.length, 1, `children of the launcher: ${kids.join(',')}`);
  return Number(kids[0]);
}

function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
}

/** Gone, or a zombie nobody reaped yet: either way it no longer runs. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function untilStopped(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (running(pid)) {
    if (Date.now() > deadline) assert.fail(`pid ${pid} still runs ${timeoutMs} ms later`);
    await sleep(20);
  }
}

test('nodeFlagsProblem accepts the listed flags and names what it refuses', () => {
  assert.equal(nodeFlagsProblem(''), undefined);
  assert.equal(nodeFlagsProblem(' --single-threaded-gc  --max-semi-space-size=16 '), undefined);
  assert.equal(nodeFlagsProblem('--no-incremental-marking'), undefined);
  assert.match(nodeFlagsProblem('--no-incremental-marking=1') ?? '', /takes no value/);
  assert.deepEqual(splitNodeFlags(' --single-threaded-gc  --max-old-space-size=512 '), [
    '--single-threaded-gc',
    '--max-old-space-size=512',
  ]);
  assert.match(nodeFlagsProblem('--expose-gc') ?? '', /--expose-gc is not a flag .*accepted: --single-threaded-gc/);
  assert.match(nodeFlagsProblem('--single-threaded-gc=1') ?? '', /takes no value/);
  assert.match(nodeFlagsProblem('--max-semi-space-size') ?? '', /needs a size in MiB/);
  assert.match(nodeFlagsProblem('--max-semi-space-size=16k') ?? '', /needs a size in MiB/);
});

test('an unknown node flag stops `tsrocket broker` before anything starts, naming the key', async () => {
  const dir = await tempDir();
  const conf = await writeBrokerConf(dir, { nodeFlags: '--single-threaded-gc --inspect', storePathRootDir: dir });
  const child = spawn(process.execPath, [cliPath, 'broker', '-c', conf, '--port', '0', '--no-grpc'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const [code] = await once(child, 'exit');
  assert.equal(code, 2, out);
  assert.match(out, /nodeFlags/);
  assert.match(out, /--inspect is not a flag tsrocket starts Node with/);
  assert.doesNotMatch(out, /re-running|listening/);
});

test('`tsrocket start` re-runs itself with nodeFlags; SIGTERM to the launcher stops both cleanly', {
  skip: !linux && 'needs /proc',
}, async () => {
  const dir = await tempDir();
  const conf = await writeBrokerConf(dir, { nodeFlags: '--single-threaded-gc' });
  const server = await startServer(join(dir, 'data'), conf);
  const launcher = server.proc.child.pid as number;
  assert.ok(server.proc.lines.some((l) => /re-running with node flags nodeFlags=--single-threaded-gc/.test(l)));
  const broker = childOf(launcher);
  const argv = commandLine(broker);
  assert.ok(argv.includes('--single-threaded-gc'), argv.join(' '));
  assert.ok(!commandLine(launcher).includes('--single-threaded-gc'));
  server.proc.kill('SIGTERM');
  assert.equal(await server.proc.exited, 0);
  assert.ok(
    server.proc.lines.some((l) => /\[cli\] stopped/.test(l)),
    'the server closed cleanly',
  );
  await untilStopped(broker, 5000);
});

test('`tsrocket broker` with nodeFlags: a launcher killed outright takes the server with it', {
  skip: !linux && 'needs /proc',
}, async () => {
  const dir = await tempDir();
  const conf = await writeBrokerConf(dir, { nodeFlags: '--max-semi-space-size=8', storePathRootDir: dir });
  const proc = new Proc('tsrocket broker', [cliPath, 'broker', '-c', conf, '--port', '0', '--no-grpc']);
  await proc.line(/broker serving port=\d+/);
  const broker = childOf(proc.child.pid as number);
  assert.ok(commandLine(broker).includes('--max-semi-space-size=8'));
  proc.kill('SIGKILL');
  await proc.exited;
  await untilStopped(broker, 10_000);
});

test('the re-run marker in an environment without a launcher is ignored (the flags still apply)', {
  skip: !linux && 'needs /proc',
}, async () => {
  const dir = await tempDir();
  const conf = await writeBrokerConf(dir, { nodeFlags: '--single-threaded-gc', storePathRootDir: dir });
  const child = spawn(process.execPath, [cliPath, 'broker', '-c', conf, '--port', '0', '--no-grpc'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TSROCKET_NODE_FLAGS: '--single-threaded-gc' },
  });
  let out = '';
  child.stderr.on('data', (d) => (out += d));
  let broker: number;
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (/broker serving port=\d+/.test(out)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
    });
    assert.match(out, /re-running with node flags nodeFlags=--single-threaded-gc/);
    broker = childOf(child.pid as number);
    assert.ok(commandLine(broker).includes('--single-threaded-gc'));
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, out);
  await untilStopped(broker, 5000);
});
