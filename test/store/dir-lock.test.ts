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
