/** `tsrocket start|broker|namesrv` with config files: file keys over defaults, flags over files, refusals. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NameServer } from '../../src/namesrv/namesrv.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';

const mainJs = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Running {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the match once the output matches `re`; rejects on exit or after 30 s. */
  until(re: RegExp): Promise<RegExpMatchArray>;
  stop(): Promise<number | null>;
}

function launch(args: string[], cwd: string): Running {
  const child = spawn(process.execPath, [mainJs, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'exit');
  return {
    child,
    output: () => out,
    until: (re) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (m === null) return;
          done();
          resolve(m);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${re} in time; output:\n${out}`));
        }, 30_000);
        const onExit = () => {
          done();
          reject(new Error(`exited before ${re}; output:\n${out}`));
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      }),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** Runs a command that should exit by itself; one still running after 20 s is killed (code null). */
async function runToExit(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  const r = launch(args, cwd);
  const timer = setTimeout(() => r.child.kill('SIGKILL'), 20_000);
  const [code] = await once(r.child, 'exit');
  clearTimeout(timer);
  return { code: code as number | null, output: r.output() };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function invoke(addr: string, code: number): Promise<string> {
  const client = new RemotingClient();
  try {
    const res = await client.invoke(addr, createRequest(code, {}), 5000);
    assert.equal(res.code, 0, res.remark);
    return res.body?.toString() ?? '';
  } finally {
    await client.close();
  }
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

test('start -c: listenPort, namesrvAddr, storePathRootDir, autoCreateTopicEnable and brokerIP1 of the file are used', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-start-conf-'));
  const ns = new NameServer({ listenPort: 0, bindAddress: '127.0.0.1' });
  await ns.start();
  const port = await freePort();
  const conf = join(dir, 'broker.conf');
  const store = join(dir, 'custom-store');
  await writeFile(
    conf,
    [
      `listenPort=${port}`,
      'grpcServerPort=0',
      `namesrvAddr=127.0.0.1:${ns.port}`,
      `storePathRootDir=${store}`,
      'autoCreateTopicEnable=false',
      'brokerIP1=127.0.0.2',
      'brokerNmae=oops',
      '',
    ].join('\n'),
  );
  const run = launch(['start', '-c', conf, '--namesrv-port', '0'], dir);
  try {
    await run.until(/tsrocket started/);
    const out = run.output();
    assert.match(out, new RegExp(`broker started .*addr=127\\.0\\.0\\.2:${port}`));
    // Which body CRC-32 runs (the native module, or zlib's when it is not built) is on the start line.
    assert.match(out, /broker started .*bodyCrc="(native, carry-less multiply|native, byte table|zlib's)/);
    assert.match(out, /WARN .*unknown broker config key brokerNmae .*didYouMean=brokerName/);
    assert.match(out, /WARN .*registers with namesrvAddr of the config file/);
    // The file's NameServer has the broker, at the address of brokerIP1 and the port of listenPort.
    const cluster = JSON.parse(await invoke(`127.0.0.1:${ns.port}`, RequestCode.GET_BROKER_CLUSTER_INFO)) as {
      brokerAddrTable: Record<string, { brokerAddrs: Record<string, string> }>;
    };
    assert.equal(cluster.brokerAddrTable['broker-a']?.brokerAddrs['0'], `127.0.0.2:${port}`);
    const brokerConf = await invoke(`127.0.0.1:${port}`, RequestCode.GET_BROKER_CONFIG);
    assert.match(brokerConf, /^autoCreateTopicEnable=false$/m);
    assert.match(brokerConf, new RegExp(`^storePathRootDir=${store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    assert.ok(await isDir(join(store, 'commitlog')), 'the store lives under storePathRootDir of the file');
    assert.equal(await isDir(join(dir, 'data', 'broker', 'commitlog')), false);
    await run.until(/press Ctrl\+C to stop/);
    assert.equal(await run.stop(), 0);
  } finally {
    run.child.kill('SIGKILL');
    await ns.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('start -c with explicit flags: the flags win, and each override of a file value is a warning', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-start-flags-'));
  const conf = join(dir, 'broker.conf');
  await writeFile(conf, `listenPort=10999\nstorePathRootDir=${join(dir, 'from-file')}\n`);
  const data = join(dir, 'data');
  const run = launch(['start', '-c', conf, '--data', data, '--namesrv-port', '0', '--broker-port', '0'], dir);
  try {
    await run.until(/tsrocket started/);
    const out = run.output();
    assert.match(out, /WARN .*--broker-port overrides listenPort .* file=10999 flag=0/);
    assert.match(out, /WARN .*--data overrides storePathRootDir .* file=\S*from-file flag=\S*data\/broker/);
    assert.doesNotMatch(out, /broker started .*:10999/);
    assert.ok(await isDir(join(data, 'broker', 'commitlog')));
    assert.equal(await isDir(join(dir, 'from-file')), false);
    assert.equal(await run.stop(), 0);
  } finally {
    run.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('broker -c: refused keys exit 2 before anything listens, naming key, value and why', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-broker-refuse-'));
  try {
    const cases: [string, RegExp][] = [
      ['aclEnable=true', /aclEnable=true .*ACL .*is not built yet/],
      ['brokerRole=SLAVE', /brokerRole=SLAVE .*HA replication .*is not built yet/],
      ['brokerRole=SYNC_MASTER', /brokerRole=SYNC_MASTER .*is not built yet/],
      ['flushDiskType=SOMETIMES', /flushDiskType="SOMETIMES" .*allowed values: ASYNC_FLUSH, SYNC_FLUSH/],
    ];
    for (const [line, re] of cases) {
      const conf = join(dir, 'broker.conf');
      await writeFile(conf, `${line}\n`);
      const r = await runToExit(['broker', '-c', conf, '--port', '0', '--data', join(dir, 'store')], dir);
      assert.equal(r.code, 2, `${line}: ${r.output}`);
      assert.match(r.output, re);
      assert.doesNotMatch(r.output, /broker serving/);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('broker -c --port: the flag wins with a warning naming key, file value and flag value', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-broker-flags-'));
  const conf = join(dir, 'broker.conf');
  await writeFile(conf, 'listenPort=10921\nbrokerName=broker-q\n');
  const run = launch(['broker', '-c', conf, '--port', '0', '--host', '127.0.0.1', '--data', join(dir, 's')], dir);
  try {
    const m = await run.until(/broker serving port=(\d+) brokerAddr=(\S+)/);
    assert.notEqual(m[1], '10921');
    assert.equal(m[2], `127.0.0.1:${m[1]}`);
    assert.match(run.output(), /WARN .*--port overrides listenPort .*key=listenPort file=10921 flag=0/);
    await run.until(/press Ctrl\+C to stop/);
    assert.equal(await run.stop(), 0);
  } finally {
    run.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('namesrv --host binds that address and says how to stop', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-ns-host-'));
  await mkdir(join(dir, 'ns'));
  const run = launch(['namesrv', '--port', '0', '--host', '127.0.0.1', '--kv-config', join(dir, 'ns', 'kv.json')], dir);
  try {
    const m = await run.until(/NameServer listening port=(\d+) host=127\.0\.0\.1/);
    await run.until(/press Ctrl\+C to stop/);
    const client = new RemotingClient();
    try {
      const res = await client.invoke(
        `127.0.0.1:${m[1]}`,
        createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'NoSuchTopic' }),
      );
      assert.equal(res.code, 17);
    } finally {
      await client.close();
    }
    assert.equal(await run.stop(), 0);
  } finally {
    run.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
