/**
 * Fault-injecting StorageIO for tests: torn writes, fdatasync failures, ENOSPC, a forced disk ratio, a simulated
 * disk that fills up, and errno rules on open / write / fdatasync by path, deterministic from a seed. It wraps a
 * real StorageIO so files stay inspectable.
 */
import type { DiskUsage, FileIO, StorageIO } from './io.js';

/** Where a fault rule strikes: opening a file, writing to it, or its fdatasync (a folder's fsync too). */
export type FaultOp = 'open' | 'write' | 'datasync';

export interface FaultRule {
  op: FaultOp;
  path: RegExp;
  /** errno code thrown, e.g. EMFILE, ENOSPC, EIO. */
  code: string;
  /** Attempts still to fail. */
  times: number;
  /** Attempts failed so far. */
  hits: number;
}

/** Small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function ioError(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  err.code = code;
  return err;
}

export interface FaultCounters {
  writes: number;
  bytesWritten: number;
  datasyncs: number;
}

export class FaultyStorageIO implements StorageIO {
  readonly random: () => number;
  readonly counters: FaultCounters = { writes: 0, bytesWritten: 0, datasyncs: 0 };
  /** Fail this many upcoming fdatasyncs with EIO. */
  failDatasyncs = 0;
  /** Writes to paths matching this fail with ENOSPC (after writing nothing). */
  enospc: RegExp | undefined;
  /** The next write to a path matching this lands only partly and then throws EIO (a torn write). */
  tearNextWrite: RegExp | undefined;
  /** When set, reported as the disk used ratio. */
  diskRatio: number | undefined;
  /** Extra delay added to every fdatasync (ms), to make group commit observable. */
  datasyncDelayMs = 0;
  /** errno rules (see `fail`); checked before the other faults. */
  readonly rules: FaultRule[] = [];
  /**
   * A simulated disk: every byte written through a file takes one of `freeBytes`; a write larger than what is
   * left lands partly and throws ENOSPC, as a real full disk does. Also what diskUsage reports.
   */
  disk: { totalBytes: number; freeBytes: number } | undefined;

  constructor(
    private readonly inner: StorageIO,
    readonly seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  /** Fails the next `times` `op`s on paths matching `path` with errno `code`. */
  fail(op: FaultOp, path: RegExp, code: string, times = Number.POSITIVE_INFINITY): FaultRule {
    const rule = { op, path, code, times, hits: 0 };
    this.rules.push(rule);
    return rule;
  }

  /** Drops every errno rule (the fault clears). */
  clearFaults(): void {
    this.rules.length = 0;
  }

  /** Throws when a rule matches `op` on `file`. */
  strike(op: FaultOp, file: string): void {
    for (const r of this.rules) {
      if (r.op !== op || r.times <= 0 || !r.path.test(file)) continue;
      r.times--;
      r.hits++;
      throw ioError(r.code, `injected ${op} fault on ${file}`);
    }
  }

  async open(file: string): Promise<FileIO> {
    this.strike('open', file);
    return new FaultyFile(this, await this.inner.open(file));
  }
  mkdirp(dir: string): Promise<void> {
    return this.inner.mkdirp(dir);
  }
  readdir(dir: string): Promise<string[]> {
    return this.inner.readdir(dir);
  }
  unlink(file: string): Promise<void> {
    return this.inner.unlink(file);
  }
  rmrf(target: string): Promise<void> {
    return this.inner.rmrf(target);
  }
  exists(file: string): Promise<boolean> {
    return this.inner.exists(file);
  }
  readFile(file: string): Promise<Buffer | undefined> {
    return this.inner.readFile(file);
  }
  async writeFileDurable(file: string, data: Buffer): Promise<void> {
    if (this.enospc?.test(file)) throw ioError('ENOSPC', `no space left writing ${file}`);
    this.strike('open', file);
    this.strike('write', file);
    this.strike('datasync', file);
    await this.inner.writeFileDurable(file, data);
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  /** Counts as an fdatasync: `failDatasyncs` fails it too. */
  async syncDir(dir: string): Promise<void> {
    this.counters.datasyncs++;
    this.strike('datasync', dir);
    if (this.failDatasyncs > 0) {
      this.failDatasyncs--;
      throw ioError('EIO', `fsync failed on folder ${dir}`);
    }
    await this.inner.syncDir(dir);
  }
  mtimeMs(file: string): Promise<number> {
    return this.inner.mtimeMs(file);
  }
  diskUsage(dir: string): Promise<DiskUsage> {
    const d = this.disk;
    if (d !== undefined) {
      return Promise.resolve({ usedRatio: 1 - d.freeBytes / d.totalBytes, ...d });
    }
    if (this.diskRatio === undefined) return this.inner.diskUsage(dir);
    const totalBytes = 2 ** 40;
    return Promise.resolve({ usedRatio: this.diskRatio, totalBytes, freeBytes: (1 - this.diskRatio) * totalBytes });
  }
}

class FaultyFile implements FileIO {
  constructor(
    private readonly io: FaultyStorageIO,
    private readonly inner: FileIO,
  ) {}
  get path(): string {
    return this.inner.path;
  }
  async write(buf: Buffer, position: number): Promise<void> {
    const io = this.io;
    io.strike('write', this.path);
    if (io.enospc?.test(this.path)) throw ioError('ENOSPC', `no space left writing ${this.path}`);
    const disk = io.disk;
    if (disk !== undefined) {
      if (buf.length > disk.freeBytes) {
        const keep = disk.freeBytes;
        disk.freeBytes = 0;
        await this.inner.write(buf.subarray(0, keep), position);
        throw ioError('ENOSPC', `no space left: ${keep} of ${buf.length} bytes reached ${this.path}`);
      }
      disk.freeBytes -= buf.length;
    }
    if (io.tearNextWrite?.test(this.path)) {
      io.tearNextWrite = undefined;
      const keep = Math.floor(io.random() * buf.length);
      await this.inner.write(buf.subarray(0, keep), position);
      throw ioError('EIO', `torn write: ${keep} of ${buf.length} bytes reached ${this.path}`);
    }
    io.counters.writes++;
    io.counters.bytesWritten += buf.length;
    await this.inner.write(buf, position);
  }
  read(buf: Buffer, position: number, length?: number): Promise<number> {
    return this.inner.read(buf, position, length);
  }
  async datasync(): Promise<void> {
    const io = this.io;
    io.counters.datasyncs++;
    if (io.datasyncDelayMs > 0) await new Promise((r) => setTimeout(r, io.datasyncDelayMs));
    io.strike('datasync', this.path);
    if (io.failDatasyncs > 0) {
      io.failDatasyncs--;
      throw ioError('EIO', `fdatasync failed on ${this.path}`);
    }
    await this.inner.datasync();
  }
  truncate(length: number): Promise<void> {
    return this.inner.truncate(length);
  }
  size(): Promise<number> {
    return this.inner.size();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
