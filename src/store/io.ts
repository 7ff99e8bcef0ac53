/**
 * Storage and clock behind small interfaces, so the store runs on real files in production and on
 * fault-injecting files in tests (see fault-io.ts).
 */
import { constants, readSync, writeSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** One open file, positional I/O only. */
export interface FileIO {
  readonly path: string;
  /** Writes all of `buf` at `position` (throws on I/O errors, e.g. ENOSPC). */
  write(buf: Buffer, position: number): Promise<void>;
  /** Reads up to `length` bytes at `position` into `buf` at 0; returns the bytes read (short at EOF). */
  read(buf: Buffer, position: number, length?: number): Promise<number>;
  /** Same as `read`, blocking, into `buf` from `at` (0): for bytes that are almost surely in the page cache (optional). */
  readSync?(buf: Buffer, position: number, length?: number, at?: number): number;
  /** Optional blocking write of all of `buf` at `position` (a page-cache copy; throws on I/O errors). */
  writeSync?(buf: Buffer, position: number): void;
  /**
   * Optional: the descriptor, for reads in another thread (read-worker.ts), kept open until `endLease` (a `close`
   * meanwhile waits, so the number is never reused under such a read); undefined once the file is closing.
   */
  leaseFd?(): number | undefined;
  endLease?(): void;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface StorageIO {
  /** Opens read-write, creating the file when missing. */
  open(file: string): Promise<FileIO>;
  mkdirp(dir: string): Promise<void>;
  /** Entry names, [] when the folder does not exist. */
  readdir(dir: string): Promise<string[]>;
  unlink(file: string): Promise<void>;
  rmrf(target: string): Promise<void>;
  exists(file: string): Promise<boolean>;
  /** Whole file, undefined when missing. */
  readFile(file: string): Promise<Buffer | undefined>;
  /** Replaces a small file atomically and durably (temp file, fdatasync, rename, fsync of the folder). */
  writeFileDurable(file: string, data: Buffer): Promise<void>;
  /** Renames atomically, replacing `to` (durable once the folder is synced). */
  rename(from: string, to: string): Promise<void>;
  /** fsync of a folder: makes the names created, renamed or removed in it durable. */
  syncDir(dir: string): Promise<void>;
  mtimeMs(file: string): Promise<number>;
  /** Space of the file system holding `dir` (statfs). */
  diskUsage(dir: string): Promise<DiskUsage>;
}

export interface DiskUsage {
  /** Used fraction (0..1) of what non-root users can reach, as `df` shows it. */
  usedRatio: number;
  /** Bytes non-root users can reach (used + available). */
  totalBytes: number;
  /** Bytes still available to non-root users. */
  freeBytes: number;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told (tests). */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.UTC(2024, 0, 1)) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

class NodeFile implements FileIO {
  /** Leases of the descriptor not yet ended; `close` waits for them (`closing` resumes it). */
  private leases = 0;
  private closing: (() => void) | undefined;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly fh: fs.FileHandle,
  ) {}
  leaseFd(): number | undefined {
    if (this.closed) return undefined;
    this.leases++;
    return this.fh.fd;
  }
  endLease(): void {
    if (--this.leases === 0) this.closing?.();
  }
  async write(buf: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, done, buf.length - done, position + done);
      done += bytesWritten;
    }
  }
  async read(buf: Buffer, position: number, length = buf.length): Promise<number> {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }
  writeSync(buf: Buffer, position: number): void {
    let done = 0;
    while (done < buf.length) done += writeSync(this.fh.fd, buf, done, buf.length - done, position + done);
  }
  readSync(buf: Buffer, position: number, length = buf.length, at = 0): number {
    let done = 0;
    while (done < length) {
      const n = readSync(this.fh.fd, buf, at + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }
  datasync(): Promise<void> {
    return this.fh.datasync();
  }
  truncate(length: number): Promise<void> {
    return this.fh.truncate(length);
  }
  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }
  async close(): Promise<void> {
    this.closed = true;
    if (this.leases > 0) await new Promise<void>((resolve) => (this.closing = resolve));
    return this.fh.close();
  }
}

/** The real thing: node:fs. */
export class NodeStorageIO implements StorageIO {
  async open(file: string): Promise<FileIO> {
    const fh = await fs.open(file, constants.O_RDWR | constants.O_CREAT, 0o644);
    return new NodeFile(file, fh);
  }
  async mkdirp(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
  }
  async readdir(dir: string): Promise<string[]> {
    try {
      return await fs.readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
  async unlink(file: string): Promise<void> {
    await fs.rm(file, { force: true });
  }
  async rmrf(target: string): Promise<void> {
    await fs.rm(target, { recursive: true, force: true });
  }
  async exists(file: string): Promise<boolean> {
    try {
      await fs.access(file);
      return true;
    } catch {
      return false;
    }
  }
  async readFile(file: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  async writeFileDurable(file: string, data: Buffer): Promise<void> {
    const tmp = `${file}.tmp`;
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
    await this.syncDir(path.dirname(file));
  }
  async rename(from: string, to: string): Promise<void> {
    await fs.rename(from, to);
  }
  async syncDir(dir: string): Promise<void> {
    const fh = await fs.open(dir, constants.O_RDONLY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  async mtimeMs(file: string): Promise<number> {
    return (await fs.stat(file)).mtimeMs;
  }
  async diskUsage(dir: string): Promise<DiskUsage> {
    const s = await fs.statfs(dir);
    // As `df`: used over what non-root users can reach.
    const usedBytes = (s.blocks - s.bfree) * s.bsize;
    const freeBytes = s.bavail * s.bsize;
    const totalBytes = usedBytes + freeBytes;
    return { usedRatio: totalBytes === 0 ? 0 : usedBytes / totalBytes, totalBytes, freeBytes };
  }
}

/** Names a file by a start offset, as RocketMQ does: 20 digits, zero padded. */
export function offsetFileName(offset: number): string {
  return String(offset).padStart(20, '0');
}

export function isOffsetFileName(name: string): boolean {
  return /^\d{20}$/.test(name);
}

export function joinPath(...parts: string[]): string {
  return path.join(...parts);
}
