/**
 * Disk facts measured in the same run as a benchmark: drop the page cache (root only) and the sequential read
 * MB/s of a file read cold with plain buffered reads, the way the broker's pread path reads.
 */
import { execFileSync } from 'node:child_process';
import { open, writeFile } from 'node:fs/promises';

const mib = 1024 * 1024;
const probeChunkBytes = 4 * mib;

/** sync + drop_caches; false when not permitted (not root, read-only /proc). */
export async function dropCaches(): Promise<boolean> {
  try {
    execFileSync('sync');
    await writeFile('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

/** Writes `bytes` of incompressible-ish data to `file` and makes it durable. */
export async function writeProbeFile(file: string, bytes: number): Promise<void> {
  const fh = await open(file, 'w');
  try {
    const chunk = Buffer.alloc(probeChunkBytes);
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
    for (let off = 0; off < bytes; off += chunk.length) await fh.write(chunk, 0, chunk.length, off);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Reads `file` start to end in 4 MiB reads, one at a time; resolves with MB/s (MiB/s) and bytes read. */
export async function sequentialReadMiBps(file: string): Promise<{ mibPerSec: number; bytes: number }> {
  const fh = await open(file, 'r');
  const buf = Buffer.allocUnsafe(probeChunkBytes);
  let bytes = 0;
  const t0 = performance.now();
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, bytes);
      if (bytesRead === 0) break;
      bytes += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { mibPerSec: bytes / mib / ((performance.now() - t0) / 1000), bytes };
}

/** Free bytes on the filesystem holding `dir` (`df`), or undefined. */
export function freeBytes(dir: string): number | undefined {
  try {
    const out = execFileSync('df', ['-B1', '--output=avail', dir], { encoding: 'utf8' });
    const n = Number(out.trim().split('\n').pop());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
