/**
 * One process per store directory: `<storePathRootDir>/lock` holds the owner's pid (RocketMQ holds a file lock on
 * the same name). A lock whose process is gone (SIGKILL, crash) or is this process is taken over; a lock held by
 * a live process makes start fail with a message naming it, so two brokers never write one CommitLog. Within one
 * process (brokers embedded side by side) the lock is also refused while another store holds it.
 */
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { TsRocketError } from '../common/errors.js';

export class StoreLockedError extends TsRocketError {
  constructor(
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(
      pid === process.pid
        ? `store ${path.dirname(lockFile)} is already open in this process; shut that store down first`
        : `store ${path.dirname(lockFile)} is in use by process ${pid}; stop it first ` +
            `(or delete ${lockFile} if that process is not a tsrocket broker)`,
    );
    this.name = 'StoreLockedError';
  }
}

/** Lock files held by stores of this process. */
const heldHere = new Set<string>();

/** Takes the lock of `root`; resolves to its release (which removes the file if this process still owns it). */
export async function lockStoreDir(root: string): Promise<() => Promise<void>> {
  const file = path.resolve(root, 'lock');
  if (heldHere.has(file)) throw new StoreLockedError(file, process.pid);
  heldHere.add(file);
  try {
    return await take(root, file);
  } catch (err) {
    heldHere.delete(file);
    throw err;
  }
}

async function take(root: string, file: string): Promise<() => Promise<void>> {
  await mkdir(root, { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(file, 'wx');
      try {
        await fh.writeFile(`${process.pid}\n`);
      } finally {
        await fh.close();
      }
      return () => release(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await ownerOf(file);
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) throw new StoreLockedError(file, owner);
    // Stale (its process is gone) or left by an earlier run of this pid: take it over.
    await unlink(file).catch(() => undefined);
  }
  throw new Error(`cannot take the store lock ${file}: it keeps reappearing`);
}

async function ownerOf(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True for a running process; a zombie (killed, not yet reaped by its parent) counts as gone. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

async function release(file: string): Promise<void> {
  if (!heldHere.delete(file)) return;
  if ((await ownerOf(file)) === process.pid) await unlink(file).catch(() => undefined);
}
