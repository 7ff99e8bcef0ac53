/**
 * The CommitLog's segment files: fixed-size files named by their 20-digit start offset, contiguous from the
 * oldest to the one being written, opened lazily; and the recovery scan that validates records across them.
 */
import { blankMagic, checkRecord, messageMagicV1 } from '../common/record.js';
import type { FileIO, StorageIO } from './io.js';
import { isOffsetFileName, joinPath, offsetFileName } from './io.js';

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
      await f.truncate(Math.max(0, end - seg.start));
      await f.truncate(this.segmentBytes);
      seg.dirty = true;
    }
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
    if (seg?.file !== undefined && end > seg.start) {
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
    await first.file?.close();
    await this.io.unlink(this.path(first.start));
  }

  /** Closes and deletes the newest segment. */
  async deleteLast(): Promise<void> {
    const last = this.list.pop();
    if (last === undefined) return;
    await last.file?.close();
    await this.io.unlink(this.path(last.start));
  }

  async closeAll(): Promise<void> {
    for (const seg of this.list) {
      const f = seg.file ?? (await seg.opening?.catch(() => undefined));
      await f?.close();
      seg.file = undefined;
    }
  }
}

/** Sequentially validates records from `from`, calling `onRecord` for each, until the end or a bad record. */
export async function scanSegments(
  segs: Segments,
  from: number,
  checkCrc: boolean,
  onRecord: (buf: Buffer, pos: number, phyOffset: number, size: number) => void | Promise<void>,
): Promise<ScanResult> {
  const segBytes = segs.segmentBytes;
  const list = segs.list;
  const chunk = Buffer.allocUnsafe(Math.min(scanChunkBytes, segBytes));
  let segIndex = list.findIndex((s) => from >= s.start && from < s.start + segBytes);
  if (segIndex < 0) return { end: list.length === 0 ? from : Math.max(from, segs.minOffset()), corrupt: undefined };
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
        if (size === 0 && magic === 0) return { end: seg.start + pos + p, corrupt: undefined };
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
      if (p === 0 && n < 8) return { end: seg.start + pos, corrupt: undefined };
      pos += p;
    }
  }
  const last = list[list.length - 1] as Segment;
  return { end: last.start + segBytes, corrupt: undefined };
}

function bad(offset: number, reason: string): ScanResult {
  return { end: offset, corrupt: { offset, reason } };
}
