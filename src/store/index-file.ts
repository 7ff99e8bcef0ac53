/**
 * One IndexFile in RocketMQ's layout: a 40-byte header
 * `[beginTimestamp 8][endTimestamp 8][beginPhyOffset 8][endPhyOffset 8][hashSlotCount 4][indexCount 4]`,
 * `hashSlotNum` 4-byte slots holding the newest entry number for a key hash, then `indexNum` 20-byte entries
 * `[keyHash 4][phyOffset 8][timeDiff seconds 4][previous entry 4]`. Entry 0 is never used.
 * The writable file keeps its slots in memory and writes new entries, dirty slot pages and the header on flush.
 */
import { javaStringHashCode } from '../common/hash.js';
import type { FileIO, StorageIO } from './io.js';

export const indexHeaderBytes = 40;
const slotBytes = 4;
const entryBytes = 20;
/**
 * Dirty slots are tracked by the file's 4 KiB page they are in (the table starts after the 40-byte header), so each
 * slot write covers whole file pages: a write that covers part of a page the page cache no longer holds (reclaimed,
 * as on a host whose memory is full of page cache) makes the kernel read that page from disk first, inside the
 * flush's pwrite. Only the table's first page (shared with the header) and last (shared with the entries) are partial.
 */
const slotPageBytes = 4096;
/** Dirty slot pages this close are written as one run (clean pages between them rewrite what is on disk). */
const slotRunGapPagesMax = 16;
/**
 * Slot pages are copied for their write through one reused buffer of this size, a slice per turn: under load most
 * pages are dirty, and copying the 20 MB table into a fresh buffer held the event loop 10-50 ms per flush. A slice
 * copies in well under a millisecond; not smaller, as each pwrite is a thread-pool job whose completion the event
 * loop takes under libuv's queue lock (it blocked there behind preempted pool threads on busy cores).
 */
export const slotCopyBytesMax = 4 * 1024 * 1024;

/** RocketMQ's key hash: |String.hashCode|, with Integer.MIN_VALUE mapped to 0. */
export function indexKeyHash(key: string): number {
  return foldKeyHash(javaStringHashCode(key));
}

/** indexKeyHash(prefix + key) from `prefixHash` = javaStringHashCode(prefix), without building the string. */
export function indexKeyHashAfter(prefixHash: number, key: string): number {
  let h = prefixHash;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return foldKeyHash(h);
}

/** indexKeyHashAfter of the ASCII key in bytes `at`..`end` of `b` (a byte is its char code). */
export function indexKeyHashAfterBytes(prefixHash: number, b: Uint8Array, at: number, end: number): number {
  let h = prefixHash;
  for (let i = at; i < end; i++) h = (Math.imul(h, 31) + (b[i] as number)) | 0;
  return foldKeyHash(h);
}

/** 31^n mod 2^32 (as int32) for n < 256: Java's hash of `prefix + key` is hash(prefix)·31^|key| + hash(key). */
const pow31 = new Int32Array(256);
pow31[0] = 1;
for (let n = 1; n < pow31.length; n++) pow31[n] = Math.imul(pow31[n - 1] as number, 31);

/**
 * indexKeyHashAfter(prefixHash, key) from `keyHash` = javaStringHashCode(key) and the key's length: the put path
 * hashes a batch item's UNIQ_KEY while it scans the properties, so the index does not read its bytes again.
 */
export function indexKeyHashJoined(prefixHash: number, keyHash: number, keyLength: number): number {
  let p: number;
  if (keyLength < pow31.length) p = pow31[keyLength] as number;
  else {
    p = 1;
    for (let i = 0; i < keyLength; i++) p = Math.imul(p, 31);
  }
  return foldKeyHash((Math.imul(prefixHash, p) + keyHash) | 0);
}

function foldKeyHash(h: number): number {
  return h === -2147483648 ? 0 : Math.abs(h);
}

export class IndexFile {
  beginTimestamp = 0;
  endTimestamp = 0;
  beginPhyOffset = 0;
  endPhyOffset = 0;
  hashSlotCount = 0;
  indexCount = 1;
  /** The slot table in its on-disk layout (big-endian int32s): flushed by copying runs, read back as is. */
  private slots: Buffer | undefined;
  /** Views of `slots` and `pending` for the per-key writes: DataView stores compile to one instruction each,
   * where Buffer#writeInt32BE is a call with range checks per field (five fields per key, a key per message). */
  private slotsView: DataView | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private pendingView: DataView = new DataView(new ArrayBuffer(0));
  private pendingLen = 0;
  /** The OR of the slots `touchSlots` read last (kept so that its loads are not dropped as unused). */
  slotsSeen = 0;
  private writtenCount = 1;
  /** The slot pages changed since the last flush. */
  private readonly dirtyPages: PageSet;
  private headerDirty = false;
  /** Flushes run one after another: they share `stage` and the pending entries' bookkeeping. */
  private flushing: Promise<void> = Promise.resolve();
  /** The copy of the slot pages being written (allocated at the first flush, reused). */
  private stage: Buffer | undefined;

  private constructor(
    readonly path: string,
    readonly name: string,
    private readonly file: FileIO,
    readonly hashSlotNum: number,
    readonly indexNum: number,
  ) {
    this.dirtyPages = new PageSet(Math.ceil((indexHeaderBytes + hashSlotNum * slotBytes) / slotPageBytes));
  }

  static async create(
    io: StorageIO,
    path: string,
    name: string,
    slots: number,
    num: number,
    endPhy: number,
    endTs: number,
  ): Promise<IndexFile> {
    const f = await io.open(path);
    await f.truncate(indexHeaderBytes + slots * slotBytes + num * entryBytes);
    const idx = new IndexFile(path, name, f, slots, num);
    idx.beginPhyOffset = idx.endPhyOffset = endPhy;
    idx.beginTimestamp = idx.endTimestamp = endTs;
    idx.setSlots(Buffer.alloc(slots * slotBytes));
    idx.headerDirty = true;
    return idx;
  }

  static async load(io: StorageIO, path: string, name: string, slots: number, num: number): Promise<IndexFile> {
    const f = await io.open(path);
    const idx = new IndexFile(path, name, f, slots, num);
    const h = Buffer.alloc(indexHeaderBytes);
    await f.read(h, 0);
    idx.beginTimestamp = Number(h.readBigInt64BE(0));
    idx.endTimestamp = Number(h.readBigInt64BE(8));
    idx.beginPhyOffset = Number(h.readBigInt64BE(16));
    idx.endPhyOffset = Number(h.readBigInt64BE(24));
    idx.hashSlotCount = h.readInt32BE(32);
    idx.indexCount = Math.max(1, h.readInt32BE(36));
    idx.writtenCount = idx.indexCount;
    return idx;
  }

  isFull(): boolean {
    return this.indexCount >= this.indexNum;
  }

  /** Loads the slot table so the file can take new keys. */
  async openForWrite(): Promise<void> {
    if (this.slots !== undefined) return;
    const raw = Buffer.alloc(this.hashSlotNum * slotBytes);
    await this.file.read(raw, indexHeaderBytes);
    this.setSlots(raw);
  }

  private setSlots(slots: Buffer): void {
    this.slots = slots;
    this.slotsView = new DataView(slots.buffer, slots.byteOffset, slots.byteLength);
  }

  /** Adds a key; false when the file is full (roll over). */
  putKey(key: string, phyOffset: number, storeTimestamp: number): boolean {
    return this.putHash(indexKeyHash(key), phyOffset, storeTimestamp);
  }

  /**
   * Reads the slots of `count` key hashes (a batch's, before its `putHash` calls) and keeps nothing but their OR:
   * the 20 MB slot table is read at random places, and loads that do not depend on each other overlap their cache
   * misses here, where one `putHash` after another waits for each miss in turn. A hash below 0 is skipped.
   */
  touchSlots(keyHashes: Int32Array, count: number): void {
    const slots = this.slotsView;
    if (slots === undefined) return;
    const n = this.hashSlotNum;
    let seen = 0;
    for (let i = 0; i < count; i++) {
      const h = keyHashes[i] as number;
      if (h >= 0) seen |= slots.getInt32((h % n) * slotBytes);
    }
    this.slotsSeen = seen;
  }

  /**
   * `putHash(keyHashes[i], phyOffsets[i], storeTimestamp)` for each `i` below `count` whose hash is not below 0 (a
   * plain batch's UNIQ_KEYs, one store time): the same entries, slots and header as those calls one after another,
   * with the file's counters kept in locals and the entry buffer grown once. A file's first key (its begin time is
   * set by it) or a batch the file cannot hold whole goes key by key.
   */
  putHashes(keyHashes: Int32Array, phyOffsets: Float64Array, count: number, storeTimestamp: number): void {
    const slots = this.slotsView;
    if (slots === undefined) throw new Error('index file not opened for writing');
    if (this.indexCount <= 1 || this.indexCount + count > this.indexNum) {
      for (let i = 0; i < count; i++) {
        const h = keyHashes[i] as number;
        if (h >= 0) this.putHash(h, phyOffsets[i] as number, storeTimestamp);
      }
      return;
    }
    let timeDiff = this.beginTimestamp <= 0 ? 0 : Math.floor((storeTimestamp - this.beginTimestamp) / 1000);
    if (timeDiff < 0) timeDiff = 0;
    if (timeDiff > 0x7fffffff) timeDiff = 0x7fffffff;
    if (this.pendingLen + count * entryBytes > this.pending.length) {
      let len = Math.max(4096, this.pending.length * 2);
      while (len < this.pendingLen + count * entryBytes) len *= 2;
      const next = Buffer.allocUnsafe(len);
      this.pending.copy(next, 0, 0, this.pendingLen);
      this.pending = next;
      this.pendingView = new DataView(next.buffer, next.byteOffset, next.byteLength);
    }
    const v = this.pendingView;
    const n = this.hashSlotNum;
    const dirty = this.dirtyPages;
    let p = this.pendingLen;
    let indexCount = this.indexCount;
    let lastPhy = -1;
    for (let i = 0; i < count; i++) {
      const keyHash = keyHashes[i] as number;
      if (keyHash < 0) continue;
      const phyOffset = phyOffsets[i] as number;
      const slot = keyHash % n;
      let prev = slots.getInt32(slot * slotBytes);
      if (prev <= 0 || prev > indexCount) prev = 0;
      v.setInt32(p, keyHash);
      v.setUint32(p + 4, Math.floor(phyOffset / 2 ** 32));
      v.setUint32(p + 8, phyOffset >>> 0);
      v.setInt32(p + 12, timeDiff);
      v.setInt32(p + 16, prev);
      p += entryBytes;
      slots.setInt32(slot * slotBytes, indexCount);
      dirty.add(Math.floor((indexHeaderBytes + slot * slotBytes) / slotPageBytes));
      indexCount++;
      lastPhy = phyOffset;
    }
    if (lastPhy < 0) return;
    this.hashSlotCount += indexCount - this.indexCount;
    this.indexCount = indexCount;
    this.pendingLen = p;
    this.endPhyOffset = lastPhy;
    this.endTimestamp = storeTimestamp;
    this.headerDirty = true;
  }

  /** putKey with the key's indexKeyHash already computed. */
  putHash(keyHash: number, phyOffset: number, storeTimestamp: number): boolean {
    if (this.isFull()) return false;
    const slots = this.slotsView;
    if (slots === undefined) throw new Error('index file not opened for writing');
    const slot = keyHash % this.hashSlotNum;
    let prev = slots.getInt32(slot * slotBytes);
    if (prev <= 0 || prev > this.indexCount) prev = 0;
    let timeDiff = this.beginTimestamp <= 0 ? 0 : Math.floor((storeTimestamp - this.beginTimestamp) / 1000);
    if (timeDiff < 0) timeDiff = 0;
    if (timeDiff > 0x7fffffff) timeDiff = 0x7fffffff;
    if (this.pendingLen + entryBytes > this.pending.length) {
      const next = Buffer.allocUnsafe(Math.max(4096, this.pending.length * 2));
      this.pending.copy(next, 0, 0, this.pendingLen);
      this.pending = next;
      this.pendingView = new DataView(next.buffer, next.byteOffset, next.byteLength);
    }
    const p = this.pendingLen;
    const v = this.pendingView;
    v.setInt32(p, keyHash);
    // phyOffset as two 32-bit halves: no BigInt per indexed key.
    v.setUint32(p + 4, Math.floor(phyOffset / 2 ** 32));
    v.setUint32(p + 8, phyOffset >>> 0);
    v.setInt32(p + 12, timeDiff);
    v.setInt32(p + 16, prev);
    this.pendingLen += entryBytes;
    slots.setInt32(slot * slotBytes, this.indexCount);
    this.dirtyPages.add(Math.floor((indexHeaderBytes + slot * slotBytes) / slotPageBytes));
    if (this.indexCount <= 1) {
      this.beginPhyOffset = phyOffset;
      this.beginTimestamp = storeTimestamp;
    }
    this.hashSlotCount++;
    this.indexCount++;
    this.endPhyOffset = phyOffset;
    this.endTimestamp = storeTimestamp;
    this.headerDirty = true;
    return true;
  }

  /**
   * Writes new entries, dirty slot pages and the header, then fdatasyncs. Entries and pages count as written only
   * once the fdatasync succeeded: after a failure (EMFILE, ENOSPC, EIO) the next flush writes them all again.
   * A flush called while one runs waits for it (a roll's flush can meet the checkpoint's).
   */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.flushOnce());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async flushOnce(): Promise<void> {
    if (this.pendingLen === 0 && this.dirtyPages.size === 0 && !this.headerDirty) return;
    const entriesAt = indexHeaderBytes + this.hashSlotNum * slotBytes;
    const pages = this.takeDirtyPages();
    this.headerDirty = false;
    try {
      await this.writeAndSync(entriesAt, pages);
    } catch (err) {
      for (const p of pages) this.dirtyPages.add(p);
      this.headerDirty = true;
      throw err;
    }
    // A full file takes no more keys: its copy buffer is not needed again, and once all it holds is written its slot
    // table (20 MB at RocketMQ's 5 M slots) and entry buffer go too (lookups read the file): a broker keeps one
    // writable file's tables, not every full one's since its start (100 M keys: five files, ~120 MB held).
    if (this.isFull() && this.dirtyPages.size === 0) {
      this.stage = undefined;
      if (this.pendingLen === 0 && !this.headerDirty) this.releaseTables();
    }
  }

  /** True while the file holds its slot table in memory (the writable file; a full one until its last flush). */
  holdsSlots(): boolean {
    return this.slots !== undefined;
  }

  private releaseTables(): void {
    this.slots = undefined;
    this.slotsView = undefined;
    this.pending = Buffer.alloc(0);
    this.pendingView = new DataView(new ArrayBuffer(0));
  }

  /** The dirty slot pages in ascending order, cleared. */
  private takeDirtyPages(): number[] {
    return this.dirtyPages.take();
  }

  private async writeAndSync(entriesAt: number, pages: number[]): Promise<void> {
    const chunkLen = this.pendingLen;
    if (chunkLen > 0) {
      // No copy: puts only append past chunkLen (or move on to a larger buffer), and flushes do not overlap.
      await this.file.write(this.pending.subarray(0, chunkLen), entriesAt + this.writtenCount * entryBytes);
    }
    const slots = this.slots;
    if (slots !== undefined && pages.length > 0) {
      this.stage ??= Buffer.allocUnsafeSlow(slotCopyBytesMax);
      const stage = this.stage;
      // Keys hash to random slots, so most pages go dirty: one pwrite per run of pages (a slice at most), not per page.
      for (let i = 0; i < pages.length; ) {
        let j = i;
        while (j + 1 < pages.length && (pages[j + 1] as number) - (pages[j] as number) <= slotRunGapPagesMax) j++;
        // File pages i..j hold the table's bytes from their start (less the header) to their end.
        const runTo = Math.min(slots.length, ((pages[j] as number) + 1) * slotPageBytes - indexHeaderBytes);
        for (let from = Math.max(0, (pages[i] as number) * slotPageBytes - indexHeaderBytes); from < runTo; ) {
          // Slices end on a file page too (slotCopyBytesMax is a multiple of the page).
          const sliceEnd =
            Math.floor((indexHeaderBytes + from + slotCopyBytesMax) / slotPageBytes) * slotPageBytes - indexHeaderBytes;
          const to = Math.min(runTo, sliceEnd);
          // A copy: puts keep changing the live table while the write is in flight.
          slots.copy(stage, 0, from, to);
          await this.file.write(stage.subarray(0, to - from), indexHeaderBytes + from);
          from = to;
        }
        i = j + 1;
      }
    }
    const h = Buffer.alloc(indexHeaderBytes);
    h.writeBigInt64BE(BigInt(this.beginTimestamp), 0);
    h.writeBigInt64BE(BigInt(this.endTimestamp), 8);
    h.writeBigInt64BE(BigInt(this.beginPhyOffset), 16);
    h.writeBigInt64BE(BigInt(this.endPhyOffset), 24);
    h.writeInt32BE(this.hashSlotCount | 0, 32);
    h.writeInt32BE(this.indexCount, 36);
    await this.file.write(h, 0);
    await this.file.datasync();
    if (chunkLen > 0) {
      // Puts may have added entries meanwhile: keep those.
      this.pending.copy(this.pending, 0, chunkLen, this.pendingLen);
      this.pendingLen -= chunkLen;
      this.writtenCount += chunkLen / entryBytes;
    }
  }

  isTimeMatched(begin: number, end: number): boolean {
    return (
      (begin < this.beginTimestamp && end > this.endTimestamp) ||
      (begin >= this.beginTimestamp && begin <= this.endTimestamp) ||
      (end >= this.beginTimestamp && end <= this.endTimestamp)
    );
  }

  /** Physical offsets of entries for `key` stored within [begin, end], newest first. */
  async select(key: string, maxNum: number, begin: number, end: number, out: number[]): Promise<void> {
    const keyHash = indexKeyHash(key);
    const slot = keyHash % this.hashSlotNum;
    let next = this.slots !== undefined ? this.slots.readInt32BE(slot * slotBytes) : await this.readSlot(slot);
    const seen = new Set<number>();
    while (next > 0 && next < this.indexCount && out.length < maxNum && !seen.has(next)) {
      seen.add(next);
      const e = await this.readEntry(next);
      const timeRead = this.beginTimestamp + e.timeDiff * 1000;
      if (e.timeDiff < 0) break;
      if (e.keyHash === keyHash && timeRead >= begin && timeRead <= end) out.push(e.phyOffset);
      if (timeRead < begin) break;
      next = e.prev;
    }
  }

  async close(): Promise<void> {
    await this.flushing;
    this.stage = undefined;
    await this.file.close();
  }

  private async readSlot(slot: number): Promise<number> {
    const b = Buffer.alloc(slotBytes);
    await this.file.read(b, indexHeaderBytes + slot * slotBytes);
    return b.readInt32BE(0);
  }

  private async readEntry(n: number): Promise<{ keyHash: number; phyOffset: number; timeDiff: number; prev: number }> {
    let b: Buffer;
    let p = 0;
    if (n >= this.writtenCount) {
      b = this.pending;
      p = (n - this.writtenCount) * entryBytes;
    } else {
      b = Buffer.alloc(entryBytes);
      await this.file.read(b, indexHeaderBytes + this.hashSlotNum * slotBytes + n * entryBytes);
    }
    return {
      keyHash: b.readInt32BE(p),
      phyOffset: Number(b.readBigInt64BE(p + 4)),
      timeDiff: b.readInt32BE(p + 12),
      prev: b.readInt32BE(p + 16),
    };
  }
}

/**
 * A set of page numbers below a known count as a flag per page: every put of a key marks its slot's page, and a
 * Set's add (hashing the number, ~20 ns) was a fifth of the key's cost; a flush lists them in order by one scan of
 * the flags (a few thousand bytes).
 */
class PageSet {
  private readonly flags: Uint8Array;
  size = 0;

  constructor(pageCount: number) {
    this.flags = new Uint8Array(pageCount);
  }

  add(page: number): void {
    if (this.flags[page] === 0) {
      this.flags[page] = 1;
      this.size++;
    }
  }

  /** The pages in ascending order; the set is empty afterwards. */
  take(): number[] {
    const pages: number[] = [];
    if (this.size === 0) return pages;
    const flags = this.flags;
    for (let p = 0; p < flags.length; p++) {
      if (flags[p] !== 0) {
        flags[p] = 0;
        pages.push(p);
      }
    }
    this.size = 0;
    return pages;
  }
}
