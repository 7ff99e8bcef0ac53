/**
 * One ConsumeQueue (topic/queueId): fixed 20-byte entries `[commitlog offset 8][size 4][tag hash 8]` in files
 * of `fileBytes` named by the byte offset of their first entry. The tail lives in memory until written, so
 * reads never wait on the disk for fresh entries; older entries are read with one pread.
 */
import { PlainItem, plainItemFields } from './dispatch.js';
import type { FileIO, StorageIO } from './io.js';
import { isOffsetFileName, joinPath, offsetFileName } from './io.js';

export const cqEntryBytes = 20;
/** Entries kept in memory after they are written (serves tail reads without a pread). */
const tailKeepEntries = 1024;
/**
 * Appends wait this long before the write that carries them, so one pwrite covers many entries (one per
 * message cost ~10 % of broker CPU). Safe: entries are served from memory until written, and a ConsumeQueue
 * is rebuilt from the CommitLog past the checkpoint after a crash.
 */
const writeCoalesceMs = 10;
/** Larger coalesced writes (a backlog burst) stay on the thread pool. */
const syncWriteBytesMax = 64 * 1024;
const two32 = 2 ** 32;

interface CqFile {
  /** Logical offset of the first entry. */
  start: number;
  file: FileIO | undefined;
  opening: Promise<FileIO> | undefined;
}

export interface CqEntry {
  phyOffset: number;
  size: number;
  tagsCode: bigint;
}

export class ConsumeQueue {
  private files: CqFile[] = [];
  minOffset = 0;
  maxOffset = 0;
  private mem = Buffer.allocUnsafe(64 * cqEntryBytes);
  /** `mem` for the per-entry stores (a DataView store is one instruction; Buffer#writeInt32BE a checked call). */
  private memView = new DataView(this.mem.buffer, this.mem.byteOffset, this.mem.byteLength);
  private memStart = 0;
  private writtenOffset = 0;
  /**
   * Entries below this are durable (fdatasync'd). Memory keeps the entries from here on, so after a failed
   * fdatasync (which may drop written pages while marking them clean) they are written again.
   */
  private syncedOffset = 0;
  private writing: Promise<void> | undefined;
  /** The last write's error, until a write succeeds (flush rethrows it). */
  private writeError: Error | undefined;
  /** Set by destroy(): pending entries are dropped, nothing is written or created any more. */
  private destroyed = false;
  /** Written since the last fdatasync. */
  dirty = false;
  /** Bytes of a partial entry load() cut from the last file (a clean stop never leaves one). */
  tornBytesAtLoad = 0;

  constructor(
    private readonly io: StorageIO,
    readonly dir: string,
    readonly topic: string,
    readonly queueId: number,
    private readonly fileBytes: number,
    private readonly onError: (reason: string) => void,
  ) {}

  private get perFile(): number {
    return this.fileBytes / cqEntryBytes;
  }

  /** Opens what exists on disk: only the last file is sized, the rest are named. */
  async load(): Promise<void> {
    const names = (await this.io.readdir(this.dir)).filter(isOffsetFileName).sort();
    this.files = names.map((n) => ({ start: Number(n) / cqEntryBytes, file: undefined, opening: undefined }));
    const last = this.files[this.files.length - 1];
    if (last === undefined) return;
    const f = await this.fileOf(last);
    const size = await f.size();
    const whole = size - (size % cqEntryBytes);
    if (whole !== size) {
      this.tornBytesAtLoad = size - whole;
      await f.truncate(whole); // a torn entry
    }
    this.minOffset = (this.files[0] as CqFile).start;
    this.maxOffset = this.memStart = this.writtenOffset = this.syncedOffset = last.start + whole / cqEntryBytes;
  }

  /** Appends one entry (dispatch); the write to disk follows asynchronously. */
  append(phyOffset: number, size: number, tagsCode: bigint): void {
    const used = (this.maxOffset - this.memStart) * cqEntryBytes;
    if (used + cqEntryBytes > this.mem.length) {
      const next = Buffer.allocUnsafe(this.mem.length * 2);
      this.mem.copy(next, 0, 0, used);
      this.mem = next;
      this.memView = new DataView(next.buffer, next.byteOffset, next.byteLength);
    }
    // phyOffset < 2^53: two 32-bit halves instead of a BigInt per entry.
    const v = this.memView;
    v.setUint32(used, Math.floor(phyOffset / two32));
    v.setUint32(used + 4, phyOffset >>> 0);
    v.setInt32(used + 8, size);
    writeTagsCode(this.mem, v, tagsCode, used + 12);
    this.maxOffset++;
    this.startWriting();
  }

  /**
   * `append` of a plain batch's records in order (dispatch.ts BatchDispatch: CommitLog offsets and sizes, and the
   * items' tag hashes, an int32 each, in `items`): the same entries, the memory grown once, one loop.
   */
  appendPlain(phys: Float64Array, sizes: Int32Array, items: Int32Array, count: number): void {
    const used = (this.maxOffset - this.memStart) * cqEntryBytes;
    const need = used + count * cqEntryBytes;
    if (need > this.mem.length) {
      let len = this.mem.length * 2;
      while (len < need) len *= 2;
      const next = Buffer.allocUnsafe(len);
      this.mem.copy(next, 0, 0, used);
      this.mem = next;
      this.memView = new DataView(next.buffer, next.byteOffset, next.byteLength);
    }
    const v = this.memView;
    let at = used;
    for (let i = 0; i < count; i++) {
      const phy = phys[i] as number;
      const tagHash = items[i * plainItemFields + PlainItem.tagHash] as number;
      v.setUint32(at, Math.floor(phy / two32));
      v.setUint32(at + 4, phy >>> 0);
      v.setInt32(at + 8, sizes[i] as number);
      // The tag hash as the signed 64-bit tagsCode (writeTagsCode of BigInt(tagHash)).
      v.setInt32(at + 12, tagHash < 0 ? -1 : 0);
      v.setInt32(at + 16, tagHash);
      at += cqEntryBytes;
    }
    this.maxOffset += count;
    this.startWriting();
  }

  private startWriting(): void {
    if (this.writing === undefined && this.writeError === undefined)
      this.writing = this.writeLoop().finally(() => (this.writing = undefined));
  }

  /** Up to `count` entries from `offset` (fewer at a file boundary); empty when out of range. */
  async read(offset: number, count: number): Promise<Buffer> {
    if (offset < this.minOffset || offset >= this.maxOffset || count <= 0) return Buffer.alloc(0);
    if (offset >= this.memStart) {
      const n = Math.min(count, this.maxOffset - offset);
      const at = (offset - this.memStart) * cqEntryBytes;
      return Buffer.from(this.mem.subarray(at, at + n * cqEntryBytes));
    }
    const idx = this.fileIndexOf(offset);
    const cf = this.files[idx];
    if (cf === undefined) return Buffer.alloc(0);
    const n = Math.min(count, cf.start + this.perFile - offset, this.memStart - offset);
    const buf = Buffer.allocUnsafe(n * cqEntryBytes);
    const got = await (await this.fileOf(cf)).read(buf, (offset - cf.start) * cqEntryBytes);
    return buf.subarray(0, got - (got % cqEntryBytes));
  }

  /**
   * `read` with a blocking pread into `into` (at most its length), for a side index scanned in bulk near its tail
   * (page cache): undefined when the file is not open yet or cannot read blocking (then use `read`).
   */
  readNow(offset: number, count: number, into: Buffer): Buffer | undefined {
    if (offset < this.minOffset || offset >= this.maxOffset || count <= 0) return into.subarray(0, 0);
    const room = Math.floor(into.length / cqEntryBytes);
    if (offset >= this.memStart) {
      const n = Math.min(count, room, this.maxOffset - offset);
      const at = (offset - this.memStart) * cqEntryBytes;
      this.mem.copy(into, 0, at, at + n * cqEntryBytes);
      return into.subarray(0, n * cqEntryBytes);
    }
    const cf = this.files[this.fileIndexOf(offset)];
    const file = cf?.file;
    if (cf === undefined || file?.readSync === undefined) return undefined;
    const n = Math.min(count, room, cf.start + this.perFile - offset, this.memStart - offset);
    const got = file.readSync(into, (offset - cf.start) * cqEntryBytes, n * cqEntryBytes);
    return into.subarray(0, got - (got % cqEntryBytes));
  }

  async entryAt(offset: number): Promise<CqEntry | undefined> {
    const b = await this.read(offset, 1);
    return b.length < cqEntryBytes ? undefined : decodeEntry(b, 0);
  }

  /** Recovery fast path: appends when `queueOffset` is the next offset; false when recoverPut is needed. */
  tryAppendAt(queueOffset: number, phyOffset: number, size: number, tagsCode: bigint): boolean {
    if (queueOffset !== this.maxOffset || (this.files.length === 0 && queueOffset > 0)) return false;
    this.append(phyOffset, size, tagsCode);
    return true;
  }

  /** Recovery: puts an entry at a known queue offset, replacing a stale tail when it disagrees. */
  async recoverPut(queueOffset: number, phyOffset: number, size: number, tagsCode: bigint): Promise<void> {
    if (queueOffset < this.maxOffset) {
      const cur = await this.entryAt(queueOffset);
      if (cur !== undefined && cur.phyOffset === phyOffset && cur.size === size) return;
      if (queueOffset < this.minOffset) return;
      await this.truncateTo(queueOffset);
    }
    // First entry of a queue whose older files are gone: start the files at this offset.
    this.startAt(queueOffset);
    while (this.maxOffset < queueOffset) this.append(0, 0, 0n); // a hole: blank entries, skipped by readers
    this.append(phyOffset, size, tagsCode);
  }

  /**
   * A queue with no entries and no files begins at `queueOffset` (a side queue that starts mid-queue, or one whose
   * older files are gone); false, and nothing changed, when the queue is not empty or the offset is 0.
   */
  startAt(queueOffset: number): boolean {
    if (this.files.length !== 0 || this.maxOffset !== 0 || queueOffset <= 0) return false;
    const start = queueOffset - (queueOffset % this.perFile);
    this.minOffset = this.maxOffset = this.memStart = this.writtenOffset = this.syncedOffset = queueOffset;
    this.files.push({ start, file: undefined, opening: undefined });
    return true;
  }

  /** Drops entries whose record does not end inside the log (recovery after the log was cut). */
  async truncateBeyond(logEnd: number): Promise<void> {
    let keep = this.maxOffset;
    while (keep > this.minOffset) {
      const e = await this.entryAt(keep - 1);
      if (e === undefined || e.phyOffset + e.size <= logEnd) break;
      keep--;
    }
    if (keep < this.maxOffset) await this.truncateTo(keep);
  }

  /** Cuts the queue so `offset` is the next entry. */
  async truncateTo(offset: number): Promise<void> {
    await this.drained();
    if (offset >= this.memStart) {
      this.maxOffset = offset;
      if (this.writtenOffset > offset) this.writtenOffset = offset;
    } else {
      this.maxOffset = this.memStart = this.writtenOffset = offset;
    }
    if (this.syncedOffset > offset) this.syncedOffset = offset;
    while (this.files.length > 0) {
      const last = this.files[this.files.length - 1] as CqFile;
      if (last.start < offset || (last.start === offset && this.files.length === 1)) {
        const f = await this.fileOf(last);
        await f.truncate((offset - last.start) * cqEntryBytes);
        break;
      }
      this.files.pop();
      await (last.file ?? (await last.opening))?.close();
      await this.io.unlink(this.pathOf(last.start));
    }
  }

  /** Waits for queued writes. */
  async drained(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  /**
   * Writes and fdatasyncs what was appended so far; throws while that fails (EMFILE, ENOSPC, EIO), keeping every
   * entry not yet durable in memory for the next try.
   */
  async flush(): Promise<void> {
    this.writeError = undefined;
    if (this.writtenOffset < this.maxOffset) this.startWriting();
    await this.drained();
    if (this.writeError !== undefined) throw this.writeError;
    if (!this.dirty) return;
    this.dirty = false;
    const target = this.writtenOffset;
    try {
      for (const cf of this.files.slice(-2)) if (cf.file !== undefined) await cf.file.datasync();
    } catch (err) {
      // The written pages may be lost though clean: write them again from memory.
      this.dirty = true;
      this.writtenOffset = Math.max(this.syncedOffset, this.memStart);
      throw err;
    }
    this.syncedOffset = Math.max(this.syncedOffset, target);
  }

  /** Deletes files whose entries all point below `minPhy`; moves minOffset to the first entry at or above it. */
  async deleteBelow(minPhy: number): Promise<number> {
    // Pending coalesced writes may target the files about to go: let them land first.
    await this.drained();
    let deleted = 0;
    while (this.files.length > 1) {
      const first = this.files[0] as CqFile;
      const lastOfFile = await this.entryAt(first.start + this.perFile - 1);
      if (lastOfFile === undefined || lastOfFile.phyOffset + lastOfFile.size > minPhy) break;
      this.files.shift();
      await (first.file ?? (await first.opening))?.close();
      await this.io.unlink(this.pathOf(first.start));
      this.minOffset = (this.files[0] as CqFile).start;
      deleted++;
    }
    await this.correctMinOffset(minPhy);
    return deleted;
  }

  /** Binary search for the first entry whose record is at or above `minPhy`. */
  async correctMinOffset(minPhy: number): Promise<void> {
    let lo = this.minOffset;
    let hi = Math.min(this.maxOffset, (this.files[0]?.start ?? lo) + this.perFile);
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const e = await this.entryAt(mid);
      if (e !== undefined && e.phyOffset < minPhy) lo = mid + 1;
      else hi = mid;
    }
    this.minOffset = lo;
  }

  /** Empties the queue and deletes its files (before a rebuild from the CommitLog). */
  async clear(): Promise<void> {
    await this.close();
    for (const cf of this.files) await this.io.unlink(this.pathOf(cf.start));
    this.files = [];
    this.minOffset = this.maxOffset = this.memStart = this.writtenOffset = 0;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.drained();
    await this.close();
    await this.io.rmrf(this.dir);
    this.files = [];
    this.minOffset = this.maxOffset = this.memStart = this.writtenOffset = 0;
  }

  async close(): Promise<void> {
    await this.drained();
    for (const cf of this.files) {
      const f = cf.file ?? (await cf.opening?.catch(() => undefined));
      await f?.close();
      cf.file = undefined;
      cf.opening = undefined;
    }
  }

  private async writeLoop(): Promise<void> {
    while (this.writtenOffset < this.maxOffset) {
      await new Promise((resolve) => setTimeout(resolve, writeCoalesceMs));
      if (this.destroyed || this.writtenOffset >= this.maxOffset) break;
      const from = this.writtenOffset;
      let idx = this.fileIndexOf(from);
      if (idx >= this.files.length || idx < 0) {
        const start = from - (from % this.perFile);
        this.files.push({ start, file: undefined, opening: undefined });
        idx = this.files.length - 1;
      }
      const cf = this.files[idx] as CqFile;
      const n = Math.min(this.maxOffset - from, cf.start + this.perFile - from);
      const at = (from - this.memStart) * cqEntryBytes;
      const filePos = (from - cf.start) * cqEntryBytes;
      try {
        const open = cf.file;
        if (open?.writeSync !== undefined && n * cqEntryBytes <= syncWriteBytesMax) {
          // A page-cache copy of a few entries: cheaper than a thread-pool hand-off and the wake-ups of both
          // threads (8 queues × every 10 ms), which preempt the send and pull paths on a small machine.
          open.writeSync(this.mem.subarray(at, at + n * cqEntryBytes), filePos);
        } else {
          const chunk = Buffer.from(this.mem.subarray(at, at + n * cqEntryBytes));
          const f = await this.fileOf(cf);
          await f.write(chunk, filePos);
        }
      } catch (err) {
        this.writeError = err as Error;
        this.onError(`ConsumeQueue ${this.topic}/${this.queueId} write failed: ${(err as Error).message}`);
        return;
      }
      // A truncate may have run meanwhile; only advance over what is still the same range.
      if (this.writtenOffset === from) this.writtenOffset = Math.min(from + n, this.maxOffset);
      this.dirty = true;
      this.trimMemory();
    }
  }

  private trimMemory(): void {
    const drop = Math.min(this.writtenOffset - tailKeepEntries, this.syncedOffset) - this.memStart;
    if (drop < tailKeepEntries * 2) return;
    const used = (this.maxOffset - this.memStart) * cqEntryBytes;
    this.mem.copy(this.mem, 0, drop * cqEntryBytes, used);
    this.memStart += drop;
  }

  private fileIndexOf(offset: number): number {
    const first = this.files[0];
    if (first === undefined) return 0;
    return Math.floor((offset - first.start) / this.perFile);
  }

  private pathOf(start: number): string {
    return joinPath(this.dir, offsetFileName(start * cqEntryBytes));
  }

  private fileOf(cf: CqFile): Promise<FileIO> {
    if (cf.file !== undefined) return Promise.resolve(cf.file);
    if (cf.opening === undefined) {
      cf.opening = (async () => {
        await this.io.mkdirp(this.dir);
        const f = await this.io.open(this.pathOf(cf.start));
        cf.file = f;
        return f;
      })();
      // A failed open (EMFILE) is tried again by the next write.
      const opening = cf.opening;
      opening.catch(() => {
        if (cf.opening === opening) cf.opening = undefined;
      });
    }
    return cf.opening;
  }
}

export function decodeEntry(buf: Buffer, pos: number): CqEntry {
  return {
    phyOffset: Number(buf.readBigInt64BE(pos)),
    size: buf.readInt32BE(pos + 8),
    tagsCode: buf.readBigInt64BE(pos + 12),
  };
}

/**
 * The entry's 8-byte tags code. Tag hashes (int32) and timer due times fit a safe integer: two 32-bit halves
 * then, instead of BigInt masks per entry; anything else is wrapped to int64 as before.
 */
function writeTagsCode(buf: Buffer, v: DataView, tagsCode: bigint, at: number): void {
  const n = Number(tagsCode);
  if (Number.isSafeInteger(n)) {
    v.setInt32(at, Math.floor(n / two32) | 0);
    v.setUint32(at + 4, n >>> 0);
  } else buf.writeBigInt64BE(BigInt.asIntN(64, tagsCode), at);
}
