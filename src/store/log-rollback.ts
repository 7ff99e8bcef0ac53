/**
 * The byte work of a CommitLog repair: everything past the last acknowledged record is cut (failed writes may
 * have reached the page cache in part), the acknowledged bytes not yet flushed are written again (an fdatasync
 * error may have dropped them while marking the pages clean), a probe of zeros is written at the end, the next
 * segment is opened (EMFILE), and every dirty segment is fdatasynced. Throws while the fault lasts.
 */
import type { Segment, Segments } from './segments.js';

/** The probe write (zeros at the log end) and the read-back chunk when re-writing unflushed bytes. */
const probeBytes = 4096;
const rewriteChunkBytes = 1024 * 1024;

/**
 * Rolls the log back to `keep` (the last acknowledged end), re-writing from `flushed`; `onCut` runs once nothing
 * past `keep` can be read back. Returns the fdatasyncs made.
 */
export async function rollBackSegments(
  segs: Segments,
  keep: number,
  flushed: number,
  onCut: () => void,
): Promise<number> {
  const segmentBytes = segs.segmentBytes;
  await segs.zeroFrom(keep);
  onCut();
  const buf = Buffer.allocUnsafe(rewriteChunkBytes);
  for (let at = flushed; at < keep; ) {
    const seg = segs.of(at) as Segment;
    const n = Math.min(rewriteChunkBytes, keep - at, seg.start + segmentBytes - at);
    const f = await segs.fileOf(seg);
    const got = await f.read(buf, at - seg.start, n);
    await f.write(buf.subarray(0, got), at - seg.start);
    seg.dirty = true;
    at += n;
  }
  const seg = segs.of(keep) as Segment;
  const f = await segs.fileOf(seg);
  await f.write(Buffer.alloc(Math.min(probeBytes, seg.start + segmentBytes - keep)), keep - seg.start);
  seg.dirty = true;
  // The next segment must open too: the next roll-over writes there.
  const next = segs.of(seg.start + segmentBytes);
  if (next !== undefined) await segs.fileOf(next);
  let datasyncs = 0;
  for (const s of segs.list) {
    if (!s.dirty || s.file === undefined) continue;
    datasyncs++;
    await s.file.datasync();
    s.dirty = false;
  }
  return datasyncs;
}
