import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { StoreLockedError } from '../../src/store/dir-lock.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore, PutStatus } from '../../src/store/index.js';
import { msg, smallStore, tempDir } from './helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

function open(dir: string): FileMessageStore {
  return createMessageStore({ storePathRootDir: dir, ...smallStore }) as FileMessageStore;
}

test('a store dir locked by a live process refuses to start, names the process, and is taken over once it died', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const first = open(dir);
  await first.start();
  assert.equal((await first.putMessage(msg('L', 0, 'kept'))).status, PutStatus.PUT_OK);
  await first.shutdown();
  await assert.rejects(fs.stat(path.join(dir, 'lock')), /ENOENT/, 'a clean shutdown removes the lock');

  // Another live process holds the lock (as a running broker would).
  const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const pid = holder.pid as number;
  await fs.writeFile(path.join(dir, 'lock'), `${pid}\n`);
  const second = open(dir);
  await assert.rejects(second.start(), (err: unknown) => {
    assert.ok(err instanceof StoreLockedError);
    assert.match(err.message, new RegExp(`in use by process ${pid}`));
    return true;
  });
  assert.equal(await fs.readFile(path.join(dir, 'lock'), 'utf8'), `${pid}\n`, 'the owner keeps its lock');

  // The holder dies without cleaning up (SIGKILL): the lock is stale and the next start takes it over.
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('exit', r));
  const third = open(dir);
  await third.start();
  assert.equal(await fs.readFile(path.join(dir, 'lock'), 'utf8'), `${process.pid}\n`);
  const r = await third.getMessage('L', 0, 0n, 10, 1 << 20);
  assert.equal(r.recordCount, 1);
  await third.shutdown();
});

test('a lock whose process is a zombie (killed, not yet reaped by its parent) is taken over', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  // `sleep 0.05` dies at once and its parent, now `sleep 5`, never reaps it: a zombie with a known pid.
  const parent = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const zombie = Number(await new Promise<string>((r) => parent.stdout.once('data', (d: Buffer) => r(d.toString()))));
  try {
    let state = '';
    for (let i = 0; i < 100 && state !== 'Z'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const stat = await fs.readFile(`/proc/${zombie}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    }
    assert.equal(state, 'Z');
    await fs.writeFile(path.join(dir, 'lock'), `${zombie}\n`);
    const s = open(dir);
    await s.start();
    assert.equal(await fs.readFile(path.join(dir, 'lock'), 'utf8'), `${process.pid}\n`);
    await s.shutdown();
  } finally {
    parent.kill('SIGKILL');
  }
});

test('two stores of one process on one dir: the second is refused until the first shuts down', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const first = open(dir);
  await first.start();
  assert.equal((await first.putMessage(msg('L', 0, 'one'))).status, PutStatus.PUT_OK);
  const second = open(path.join(dir, '.')); // the same directory, spelled differently
  await assert.rejects(second.start(), (err: unknown) => {
    assert.ok(err instanceof StoreLockedError);
    assert.match(err.message, /already open in this process/);
    return true;
  });
  await first.shutdown();
  const third = open(dir);
  await third.start();
  assert.equal(third.getMaxOffsetInQueue('L', 0), 1n, 'what the first store wrote is there');
  await third.shutdown();
  await fs.access(path.join(dir, 'lock')).then(
    () => assert.fail('the lock file is removed on shutdown'),
    () => undefined,
  );
});
