/**
 * The CommitLog's segment files: fixed-size files named by their 20-digit start offset, contiguous from the
 * oldest to the one being written, opened lazily; and the recovery scan that validates records across them.
 */
import { blankMagic, checkRecord, messageMagicV1, RecordPos, recordBytesMin } from '../common/record.js';
import type { FileIO, StorageIO } from './io.js';
import { isOffsetFileName, joinPath, offsetFileName } from './io.js';
import { segmentFilesChanging } from './read-worker.js';

const scanChunkBytes = 8 * 1024 * 1024;

export interface Segment {
  start: number;
  file: FileIO | undefined;
  opening: Promise<FileIO> | undefined;
  /** Written since its last fdatasync. */
  dirty: boolean;
}

export interface ScanResult {
  /** Offset one past the last valid record (where the log continues). */
  end: number;
  /** Set when the scan stopped at a torn or corrupt record rather than at clean end-of-data. */
  corrupt: { offset: number; reason: string } | undefined;
  /** Damaged ranges below the trusted end that the scan stepped over (intact records follow each). */
  skipped: SkippedRange[];
}

export interface SkippedRange {
  offset: number;
  bytes: number;
  reason: string;
}

export class Segments {
  /** Oldest first, contiguous. */
  readonly list: Segment[] = [];

  constructor(
    private readonly io: StorageIO,
    private readonly dir: string,
    readonly segmentBytes: number,
  ) {}

  /** Opens the segment files found on disk (ascending); returns how many there are. */
  async load(): Promise<number> {
    await this.io.mkdirp(this.dir);
    const names = (await this.io.readdir(this.dir)).filter(isOffsetFileName).sort();
    for (const name of names) {
      const start = Number(name);
      if (start % this.segmentBytes !== 0) throw new Error(`commitlog segment ${name} is misaligned`);
      const file = await this.io.open(joinPath(this.dir, name));
      if ((await file.size()) < this.segmentBytes) await file.truncate(this.segmentBytes);
      this.list.push({ start, file, opening: undefined, dirty: false });
    }
    for (let i = 1; i < this.list.length; i++) {
      const a = this.list[i - 1] as Segment;
      const b = this.list[i] as Segment;
      if (b.start !== a.start + this.segmentBytes) throw new Error(`commitlog has a hole before ${b.start}`);
    }
    return this.list.length;
  }

  minOffset(): number {
    return this.list[0]?.start ?? 0;
  }

  /** The segment holding `offset`, if it exists. */
  of(offset: number): Segment | undefined {
    const first = this.list[0];
    if (first === undefined || offset < first.start) return undefined;
    return this.list[Math.floor((offset - first.start) / this.segmentBytes)];
  }

  last(): Segment | undefined {
    return this.list[this.list.length - 1];
  }

  /** Appends the segment after the last one (its file is created on first use). */
  add(): void {
    const last = this.last() as Segment;
    this.list.push({ start: last.start + this.segmentBytes, file: undefined, opening: undefined, dirty: false });
  }

  fileOf(seg: Segment): Promise<FileIO> {
    if (seg.file !== undefined) return Promise.resolve(seg.file);
    if (seg.opening === undefined) {
      seg.opening = (async () => {
        const f = await this.io.open(this.path(seg.start));
        if ((await f.size()) < this.segmentBytes) await f.truncate(this.segmentBytes);
        seg.file = f;
        return f;
      })();
      // A failed open (EMFILE, ENOSPC) is tried again by the next caller.
      const opening = seg.opening;
      opening.catch(() => {
        if (seg.opening === opening) seg.opening = undefined;
      });
    }
    return seg.opening;
  }

  /**
   * Zeroes every byte from `end` on (truncate and re-extend: no space needed) and deletes segments past the one
   * after it, so nothing written past `end` can be read back or recovered.
   */
  async zeroFrom(end: number): Promise<void> {
    const holding = this.of(end);
    if (holding === undefined) return;
    for (;;) {
      const last = this.last() as Segment;
      if (last.start <= holding.start + this.segmentBytes) break;
      await this.deleteLast();
    }
    for (const seg of this.list) {
      if (seg.start + this.segmentBytes <= end) continue;
      const f = await this.fileOf(seg);
      segmentFilesChanging();
      await f.truncate(Math.max(0, end - seg.start));
      await f.truncate(this.segmentBytes);
      seg.dirty = true;
    }
  }

  /** `len` bytes at `offset` (within one segment), visible or not; undefined when out of range or short. */
  async readAt(offset: number, len: number): Promise<Buffer | undefined> {
    const seg = this.of(offset);
    if (seg === undefined || len <= 0 || offset + len > seg.start + this.segmentBytes) return undefined;
    const buf = Buffer.allocUnsafe(len);
    const n = await (await this.fileOf(seg)).read(buf, offset - seg.start, len);
    return n === len ? buf : undefined;
  }

  path(start: number): string {
    return joinPath(this.dir, offsetFileName(start));
  }

  starts(): number[] {
    return this.list.map((s) => s.start);
  }

  /** Cuts the log at `end`: deletes later segments, zeroes the rest of the segment holding `end`. */
  async cutAt(end: number): Promise<void> {
    for (;;) {
      const last = this.last();
      if (last === undefined || last.start <= end || last.start === this.minOffset()) break;
      await this.deleteLast();
    }
    const seg = this.of(end);
    if (seg?.file !== undefined && end >= seg.start) {
      segmentFilesChanging();
      await seg.file.truncate(end - seg.start);
      await seg.file.truncate(this.segmentBytes);
      await seg.file.datasync();
    }
  }

  /** Makes sure segments reach `end` (the write position after recovery) and the one holding it is open. */
  async extendTo(end: number): Promise<void> {
    if (this.list.length === 0) {
      this.list.push({ start: end - (end % this.segmentBytes), file: undefined, opening: undefined, dirty: false });
    }
    while ((this.last() as Segment).start + this.segmentBytes <= end) this.add();
    await this.fileOf(this.of(end) as Segment);
  }

  /** Deletes the oldest segment unless it is the last one or starts at or after `keepFrom`. */
  async deleteFirstBefore(keepFrom: number): Promise<boolean> {
    const first = this.list[0];
    if (first === undefined || this.list.length < 2 || first.start >= keepFrom) return false;
    await this.deleteFirst();
    return true;
  }

  /** Closes and deletes the oldest segment. */
  async deleteFirst(): Promise<void> {
    const first = this.list.shift();
    if (first === undefined) return;
    segmentFilesChanging();
    await first.file?.close();
    await this.io.unlink(this.path(first.start));
  }

  /** Closes and deletes the newest segment. */
  async deleteLast(): Promise<void> {
    const last = this.list.pop();
    if (last === undefined) return;
    segmentFilesChanging();
    await last.file?.close();
    await this.io.unlink(this.path(last.start));
  }

  async closeAll(): Promise<void> {
    segmentFilesChanging();
    for (const seg of this.list) {
      const f = seg.file ?? (await seg.opening?.catch(() => undefined));
      await f?.close();
      seg.file = undefined;
    }
  }
}

export interface ScanOptions {
  checkCrc: boolean;
  /**
   * Bytes below this offset were claimed durable (the checkpoint): a bad record or zeros below it are damage, not
   * a torn tail, so the scan looks for the next intact record (up to here) and goes on from it.
   */
  trustedEnd: number;
}

/**
 * Validates records from `from` (magic, sizes, BODYCRC when asked), calling `onRecord` for each, until the end
 * of data or a bad record past `trustedEnd`. Below `trustedEnd` a damaged range is skipped when an intact record
 * (its PHYSICALOFFSET field equal to its position) follows it, and listed in `skipped`.
 */
export async function scanSegments(
  segs: Segments,
  from: number,
  opts: ScanOptions,
  onRecord: (buf: Buffer, pos: number, phyOffset: number, size: number) => void | Promise<void>,
): Promise<ScanResult> {
  const skipped: SkippedRange[] = [];
  let at = from;
  for (;;) {
    const r = await scanRun(segs, at, opts.checkCrc, onRecord);
    if (r.end >= opts.trustedEnd || (r.corrupt === undefined && !r.zeros)) {
      return { end: r.end, corrupt: r.corrupt, skipped };
    }
    const reason = r.corrupt?.reason ?? 'zeros where a record should be';
    const next = await findNextRecord(segs, r.end, opts.trustedEnd);
    if (next === undefined) return { end: r.end, corrupt: { offset: r.end, reason }, skipped };
    skipped.push({ offset: r.end, bytes: next - r.end, reason });
    at = next;
  }
}

interface RunResult {
  end: number;
  corrupt: { offset: number; reason: string } | undefined;
  /** The run stopped at a zero header (end of data, or zeroed damage when below the trusted end). */
  zeros: boolean;
}

/** Scans from `from` until the end of data or the first bad record. */
async function scanRun(
  segs: Segments,
  from: number,
  checkCrc: boolean,
  onRecord: (buf: Buffer, pos: number, phyOffset: number, size: number) => void | Promise<void>,
): Promise<RunResult> {
  const segBytes = segs.segmentBytes;
  const list = segs.list;
  const chunk = Buffer.allocUnsafe(Math.min(scanChunkBytes, segBytes));
  let segIndex = list.findIndex((s) => from >= s.start && from < s.start + segBytes);
  if (segIndex < 0) return ended(list.length === 0 ? from : Math.max(from, segs.minOffset()), false);
  let pos = from - (list[segIndex] as Segment).start;
  for (; segIndex < list.length; segIndex++, pos = 0) {
    const seg = list[segIndex] as Segment;
    const file = seg.file as FileIO;
    segment: while (pos < segBytes) {
      const n = await file.read(chunk, pos, Math.min(chunk.length, segBytes - pos));
      const data = chunk.subarray(0, n);
      let p = 0;
      while (p + 8 <= n) {
        const size = data.readInt32BE(p);
        const magic = data.readUInt32BE(p + 4);
        if (magic === blankMagic) break segment;
        if (size === 0 && magic === 0) return ended(seg.start + pos + p, true);
        if (magic !== messageMagicV1) return bad(seg.start + pos + p, `bad magic 0x${magic.toString(16)}`);
        if (size <= 0 || size > segBytes - pos - p) return bad(seg.start + pos + p, `bad total size ${size}`);
        if (p + size > n) {
          if (size > chunk.length) return bad(seg.start + pos + p, `record of ${size} bytes is too large`);
          break;
        }
        const checked = checkRecord(data, p, checkCrc);
        if (typeof checked === 'string') return bad(seg.start + pos + p, checked);
        await onRecord(data, p, seg.start + pos + p, size);
        p += size;
      }
      if (p === 0 && n < 8) return ended(seg.start + pos, true);
      pos += p;
    }
  }
  const last = list[list.length - 1] as Segment;
  return ended(last.start + segBytes, false);
}

const magicBytes = Buffer.alloc(4);
magicBytes.writeUInt32BE(messageMagicV1);

/**
 * The offset of the first intact record after `badAt` and at most `limit`: magic, sizes and BODYCRC valid and
 * its PHYSICALOFFSET field equal to where it lies (garbage almost never passes all of that). A segment start is
 * a record boundary too. Undefined when there is none up to `limit`.
 */
async function findNextRecord(segs: Segments, badAt: number, limit: number): Promise<number | undefined> {
  const segBytes = segs.segmentBytes;
  const seg = segs.of(badAt);
  if (seg === undefined) return undefined;
  const file = await segs.fileOf(seg);
  const chunk = Buffer.allocUnsafe(Math.min(scanChunkBytes, segBytes));
  let pos = badAt - seg.start + 1;
  while (pos < segBytes && seg.start + pos <= limit) {
    const n = await file.read(chunk, pos, Math.min(chunk.length, segBytes - pos));
    if (n < 8) break;
    const data = chunk.subarray(0, n);
    for (let m = data.indexOf(magicBytes, 4); m >= 0; m = data.indexOf(magicBytes, m + 1)) {
      const c = m - 4;
      const abs = seg.start + pos + c;
      if (abs > limit) return undefined;
      if (await isRecordAt(file, data, c, pos, abs, segBytes - pos - c)) return abs;
    }
    // Overlap 7 bytes so a header across the chunk edge is seen whole in the next chunk.
    pos += n - 7;
    if (n < chunk.length) break;
  }
  const nextStart = seg.start + segBytes;
  return nextStart <= limit && segs.of(nextStart) !== undefined ? nextStart : undefined;
}

/** True when an intact record starts at `c` of `data`, read at `filePos` of the file; `abs` is its log offset. */
async function isRecordAt(file: FileIO, data: Buffer, c: number, filePos: number, abs: number, room: number) {
  const size = data.readInt32BE(c);
  if (size < recordBytesMin || size > room) return false;
  let buf = data;
  let at = c;
  if (c + size > data.length) {
    buf = Buffer.allocUnsafe(size);
    if ((await file.read(buf, filePos + c, size)) !== size) return false;
    at = 0;
  }
  const phy =
    buf.readUInt32BE(at + RecordPos.physicalOffset) * 2 ** 32 + buf.readUInt32BE(at + RecordPos.physicalOffset + 4);
  return phy === abs && checkRecord(buf, at, true) === size;
}

function ended(end: number, zeros: boolean): RunResult {
  return { end, corrupt: undefined, zeros };
}

function bad(offset: number, reason: string): RunResult {
  return { end: offset, corrupt: { offset, reason }, zeros: false };
}
