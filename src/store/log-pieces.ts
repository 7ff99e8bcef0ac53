/**
 * The CommitLog's write side below the batch: pieces (in-memory runs of encoded records, each inside one segment)
 * and their writes to the segment files, one write per contiguous run. Piece buffers of the standard size come
 * from a small free list and go back to it once written, so a steady stream of puts does not allocate (and
 * page-fault) a fresh 256 KiB buffer per batch.
 */
import type { FileIO } from './io.js';
import type { Segment, Segments } from './segments.js';

/** Standard piece size; a record larger than this gets a piece of its own size. */
export const pieceBytesMin = 256 * 1024;
/** Free piece buffers kept for reuse (a batch of ≤ 1 MiB written on the calling thread uses four). */
const freePiecesMax = 8;

export interface Piece {
  segStart: number;
  filePos: number;
  buf: Buffer;
  len: number;
}

export interface WriteStats {
  writeCalls: number;
}

type SyncWritable = FileIO & { writeSync(b: Buffer, at: number): void };

export class PiecePool {
  private readonly free: Buffer[] = [];

  /** A piece at `filePos` of the segment at `segStart` with room for at least `bytes`. */
  take(segStart: number, filePos: number, bytes: number): Piece {
    const buf = bytes <= pieceBytesMin ? this.free.pop() : undefined;
    return { segStart, filePos, buf: buf ?? Buffer.allocUnsafe(Math.max(bytes, pieceBytesMin)), len: 0 };
  }

  /** Gives written pieces' buffers back; nothing may read them afterwards. */
  release(pieces: readonly Piece[]): void {
    for (const p of pieces) {
      if (p.buf.length === pieceBytesMin && this.free.length < freePiecesMax) this.free.push(p.buf);
    }
  }
}

/** Calls `each(first, end)` for every run of pieces that lie back to back in one segment. */
function forEachRun(pieces: readonly Piece[], each: (first: number, end: number) => void): void {
  let i = 0;
  while (i < pieces.length) {
    const first = pieces[i] as Piece;
    let j = i;
    let next = first.filePos;
    while (j < pieces.length) {
      const p = pieces[j] as Piece;
      if (p.segStart !== first.segStart || p.filePos !== next) break;
      next += p.len;
      j++;
    }
    each(i, j);
    i = j;
  }
}

/** Writes the pieces through the thread pool, one write per run (a run of several pieces is joined first). */
export async function writePieces(segs: Segments, pieces: readonly Piece[], stats: WriteStats): Promise<void> {
  const runs: Array<[number, number]> = [];
  forEachRun(pieces, (i, j) => runs.push([i, j]));
  for (const [i, j] of runs) {
    const first = pieces[i] as Piece;
    const bufs = pieces.slice(i, j).map((p) => p.buf.subarray(0, p.len));
    const seg = segs.of(first.segStart) as Segment;
    const file = await segs.fileOf(seg);
    stats.writeCalls++;
    await file.write(bufs.length === 1 ? (bufs[0] as Buffer) : Buffer.concat(bufs), first.filePos);
    seg.dirty = true;
  }
}

/** True when every piece's segment is open with a blocking write and the pieces hold at most `bytesMax`. */
export function canWriteSync(segs: Segments, pieces: readonly Piece[], bytesMax: number): boolean {
  let bytes = 0;
  for (const p of pieces) {
    if (segs.of(p.segStart)?.file?.writeSync === undefined) return false;
    bytes += p.len;
  }
  return bytes <= bytesMax;
}

/** `writePieces` on the calling thread (one pwrite per piece); the error, if any, is returned, not thrown. */
export function writePiecesSync(segs: Segments, pieces: readonly Piece[], stats: WriteStats): Error | undefined {
  try {
    forEachRun(pieces, (i, j) => {
      const seg = segs.of((pieces[i] as Piece).segStart) as Segment;
      const file = seg.file as SyncWritable;
      for (let k = i; k < j; k++) {
        const p = pieces[k] as Piece;
        stats.writeCalls++;
        file.writeSync(p.buf.subarray(0, p.len), p.filePos);
      }
      seg.dirty = true;
    });
    return undefined;
  } catch (err) {
    return err as Error;
  }
}
