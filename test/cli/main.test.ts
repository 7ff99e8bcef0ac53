import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';

const mainJs = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const packageJson = fileURLToPath(new URL('../../../package.json', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function run(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [mainJs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}

/** Spawns a long-running command and resolves once a stdout line matches `ready`, with the match. */
/** `dir`: the test's temp dir, removed when the server never becomes ready (the test's finally is not reached). */
async function spawnUntil(
  args: string[],
  ready: RegExp,
  dir: string,
): Promise<{ child: ChildProcess; match: RegExpMatchArray; output: () => string }> {
  const child = spawn(process.execPath, [mainJs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr?.on('data', (d) => (out += d));
  const ready$ = new Promise<RegExpMatchArray>((resolve, reject) => {
    // A minute for a loaded machine (30 s ran out at load 40); one not ready is killed, else it would keep this file's
    // process (and its data dir) alive past the suite's timeout.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready in 60 s; output:\n${out}`));
    }, 60_000);
    child.stdout?.on('data', (d) => {
      out += d;
      const m = out.match(ready);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready; output:\n${out}`));
    });
  });
  let match: RegExpMatchArray;
  try {
    match = await ready$;
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { child, match, output: () => out };
}

async function stopWithSigterm(child: ChildProcess): Promise<number | null> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = await exited;
  return code as number | null;
}

async function routeCode(port: number, topic: string): Promise<number> {
  const client = new RemotingClient();
  try {
    const res = await client.invoke(`127.0.0.1:${port}`, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }));
    return res.code;
  } finally {
    await client.close();
  }
}

test('--help lists every subcommand; --version prints the package version', async () => {
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  for (const name of ['start', 'namesrv', 'admin', 'broker', 'bench'])
    assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'));
  assert.doesNotMatch(help.stdout, /^ {2}bench .*not available/m);
  const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
  const v = await run(['--version']);
  assert.equal(v.code, 0);
  assert.equal(v.stdout.trim(), `tsrocket ${version}`);
});

test('usage errors exit 2; commands not built yet say so and exit 1', async () => {
  assert.equal((await run([])).code, 2);
  const unknown = await run(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  assert.equal((await run(['namesrv', '--no-such-flag'])).code, 2);
  const bench = await run(['bench', 'frobnicate']);
  assert.equal(bench.code, 2);
  assert.match(bench.stderr, /unknown benchmark 'frobnicate'/);
  assert.equal((await run(['broker', '--port', 'x'])).code, 2);
});

test('broker -c conf --port 0 serves, registers nowhere without a NameServer, exits 0 on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-cli-'));
  const conf = join(dir, 'broker.conf');
  await writeFile(conf, `brokerClusterName=C1\nbrokerName=broker-z\nflushDiskType=SYNC_FLUSH\n`);
  const { child, match } = await spawnUntil(
    ['broker', '-c', conf, '--port', '0', '--data', join(dir, 'store')],
    /broker serving port=(\d+)/,
    dir,
  );
  try {
    assert.ok(Number(match[1]) > 0);
    assert.ok((await stat(join(dir, 'store', 'commitlog'))).isDirectory());
    assert.equal(await stopWithSigterm(child), 0);
  } finally {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('namesrv: config file < flags in the effective config', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-cli-'));
  try {
    const conf = join(dir, 'namesrv.properties');
    await writeFile(conf, '# test\nlistenPort=7777\nbrokerChannelExpiredTime=30000\nsomethingElse=1\n');
    const r = await run(['namesrv', '-c', conf, '--port', '7778', '--host', '127.0.0.1', '--print-config']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^listenPort=7778$/m);
    assert.match(r.stdout, /^bindAddress=127\.0\.0\.1$/m);
    assert.match(r.stdout, /^brokerChannelExpiredTime=30000$/m);
    assert.doesNotMatch(r.stdout, /somethingElse/);
    assert.match(r.stderr, /unknown NameServer config key somethingElse/);
    assert.match(r.stderr, /--port overrides listenPort/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('namesrv --port 0 prints its port, answers a route request, exits 0 on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-cli-'));
  const { child, match, output } = await spawnUntil(
    ['namesrv', '--port', '0', '--kv-config', join(dir, 'kv.json')],
    /NameServer listening port=(\d+)/,
    dir,
  );
  try {
    const port = Number(match[1]);
    assert.ok(port > 0);
    assert.equal(await routeCode(port, 'NoSuchTopic'), 17);
    assert.equal(await stopWithSigterm(child), 0);
    assert.match(output(), /stopped/);
  } finally {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('start --data creates the data dir, serves routes, exits 0 on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-cli-'));
  const data = join(dir, 'nested', 'data');
  const { child, match } = await spawnUntil(
    ['start', '--data', data, '--namesrv-port', '0', '--broker-port', '0', '--host', '127.0.0.1'],
    /NameServer listening port=(\d+)[\s\S]*tsrocket started/,
    dir,
  );
  try {
    assert.ok((await stat(data)).isDirectory());
    assert.equal(await routeCode(Number(match[1]), 'NoSuchTopic'), 17);
    assert.equal(await stopWithSigterm(child), 0);
  } finally {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('a server whose stdout reader goes away keeps running and still exits 0 on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-cli-'));
  const { child, match } = await spawnUntil(
    ['namesrv', '--port', '0', '--kv-config', join(dir, 'kv.json')],
    /NameServer listening port=(\d+)/,
    dir,
  );
  try {
    child.stdout?.destroy(); // the log reader dies: the next log line meets EPIPE
    assert.equal(await routeCode(Number(match[1]), 'NoSuchTopic'), 17);
    assert.equal(await stopWithSigterm(child), 0);
  } finally {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
