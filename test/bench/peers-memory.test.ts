import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { memoryStateLabel, ownMemoryCgroup, usageSplit } from '../../bench/peers/memory-cgroup.js';
import { parseOptions } from '../../bench/peers/options.js';
import { memoryCgroupOf, setServerPageCache, spawnServer } from '../../bench/peers/processes.js';
import { Durability, ModeKind } from '../../bench/peers/results.js';
import { evaluateTargets } from '../../bench/peers/targets.js';

test('ownMemoryCgroup: the v1 memory controller line, else the v2 unified line, else a reason', () => {
  const v1 = '9:name=systemd:/\n4:memory:/process_api/abc\n0::/\n';
  assert.deepEqual(
    ownMemoryCgroup(v1, (p) => p === '/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes'),
    { version: 1, parent: '/sys/fs/cgroup/memory/process_api/abc' },
  );
  assert.match(String(ownMemoryCgroup(v1, () => false)), /no cgroup v1 memory directory/);
  const v2 = '0::/user.slice/session-1.scope\n';
  assert.deepEqual(
    ownMemoryCgroup(v2, (p) => p === '/sys/fs/cgroup/user.slice/session-1.scope/cgroup.controllers'),
    { version: 2, parent: '/sys/fs/cgroup/user.slice/session-1.scope' },
  );
  assert.equal(typeof ownMemoryCgroup('', () => true), 'string');
});

test('usageSplit: page cache is the file LRU lists, the rest of the usage is the server own memory', () => {
  const stat = 'cache 900\nrss 300\nactive_file 200\ninactive_file 500\nshmem 0\ntotal_active_file 999\n';
  assert.deepEqual(usageSplit(stat, 1200), { pageCache: 700, other: 500 });
  assert.deepEqual(usageSplit('', 10), { pageCache: 0, other: 10 });
});

test('--page-cache: 2048 MiB by default, 0 for none, anything else refused', () => {
  const opts = (argv: string[]) => {
    const o = parseOptions(argv, {});
    assert.notEqual(o, 'help');
    return o === 'help' ? undefined : o.pageCacheMiB;
  };
  assert.equal(opts([]), 2048);
  assert.equal(opts(['--page-cache', '512']), 512);
  assert.equal(opts(['--page-cache', '0']), undefined);
  assert.throws(() => opts(['--page-cache', 'lots']), /--page-cache/);
  assert.throws(() => opts(['--page-cache', '-1']), /--page-cache/);
});

test('the batch target names the memory state it was measured in and the free-pool figure beside it', () => {
  const row = {
    system: 'tsrocket',
    mode: 'sendBatch-64×8',
    kind: ModeKind.best,
    durability: Durability.pageCache,
    value: 1,
    unit: 'msg/s' as const,
  };
  const t = evaluateTargets(
    [
      { ...row, workload: 'batch-1k', serverCpuUsPerMsg: 3, memory: memoryStateLabel(768) },
      { ...row, workload: 'batch-1k-free-pool', serverCpuUsPerMsg: 4.5, memory: memoryStateLabel(768, true) },
    ],
    undefined,
  ).find((x) => x.id === 'batch-cpu');
  assert.equal(t?.ratio, 0.5);
  assert.match(
    t?.reference ?? '',
    /3\.00 µs measured, page cache recycled \(768 MiB cgroup\); 4\.50 µs in the free pool/,
  );
});

test('a server spawned with a page-cache budget runs in its own memory cgroup, filled from the start, removed at its stop', async (t) => {
  const state = setServerPageCache(64);
  try {
    if (state.skipped !== undefined) {
      t.skip(state.skipped);
      return;
    }
    assert.equal(state.state, 'page cache recycled (64 MiB cgroup)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrocket-memtest-'));
    try {
      const server = spawnServer('/bin/sh', ['-c', 'cat /proc/self/cgroup; exec sleep 60'], path.join(dir, 'log'));
      const cg = server.memory;
      assert.ok(cg !== undefined);
      assert.equal(memoryCgroupOf(server.child.pid), cg);
      // The filler's clean pages hold the budget before the server writes anything.
      assert.ok(cg.usage().pageCache >= 32 * 1024 * 1024, `${cg.usage().pageCache} bytes of page cache`);
      for (let i = 0; i < 100 && !fs.readFileSync(path.join(dir, 'log'), 'utf8').includes('memory'); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const line = fs
        .readFileSync(path.join(dir, 'log'), 'utf8')
        .split('\n')
        .find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l) || l.startsWith('0::'));
      assert.ok(line?.endsWith(`/${path.basename(cg.dir)}`), `the server's cgroup line: ${line}`);
      // The limit follows the server's own memory plus the budget, and can be lifted.
      cg.lift();
      await server.stop();
      assert.equal(fs.existsSync(cg.dir), false, 'the cgroup is removed with its server');
      assert.equal(memoryCgroupOf(server.child.pid), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    setServerPageCache(undefined);
  }
});
