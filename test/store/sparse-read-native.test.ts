/**
 * The read worker's native sparse reads (native/sparse-read.c), called directly on real files: what the mapped
 * path copies equals a pread of the same bytes; a file cut under a mapping, a descriptor number reused for another
 * file, the bound on mapped bytes, dropping the mappings, and the pread-only mode. Skipped where the module is not
 * built (no C compiler: the worker then reads with fs.readSync, read-worker-fallback.test.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SparseNative } from '../../src/store/read-worker-layout.js';
import { tempDir } from './helpers.js';

const file = fileURLToPath(new URL('../../native/sparse-read.node', import.meta.url));
const native: SparseNative | undefined = fs.existsSync(file)
  ? (createRequire(import.meta.url)(file) as SparseNative)
  : undefined;
const skip = native === undefined || process.platform !== 'linux' ? 'native/sparse-read.c not built here' : false;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const fields = 5;
const fileBytes = 1024 * 1024;

/** Files of random bytes, opened read-only. */
async function files(n: number): Promise<{ dir: string; paths: string[]; fds: number[] }> {
  const dir = await tempDir('tsrocket-sparse-native-');
  dirs.push(dir);
  const paths: string[] = [];
  const fds: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = path.join(dir, String(i).padStart(20, '0'));
    fs.writeFileSync(p, randomBytes(fileBytes));
    paths.push(p);
    fds.push(fs.openSync(p, 'r'));
  }
  return { dir, paths, fds };
}

interface Read {
  fd: number;
  position: number;
  length: number;
}

/** One job of `reads` back to back in a fresh arena: the arena and each read's result. */
function job(n: SparseNative, reads: Read[]): { arena: Buffer; results: Int32Array; places: number[] } {
  const jobs = new Float64Array(reads.length * fields);
  const places: number[] = [];
  let at = 0;
  reads.forEach((r, s) => {
    jobs.set([r.fd, r.position, r.length, at, 0], s * fields);
    places.push(at);
    at += r.length;
  });
  const arena = Buffer.alloc(at + 16);
  const results = new Int32Array(reads.length);
  n.readSpans(arena, jobs, 0, reads.length, fields, 0, results, 0);
  return { arena, results, places };
}

/** What preads of the same reads give: bytes and counts. */
function preads(reads: Read[]): { bytes: Buffer[]; counts: number[] } {
  const bytes: Buffer[] = [];
  const counts: number[] = [];
  for (const r of reads) {
    const b = Buffer.alloc(r.length);
    let n = -1;
    try {
      n = fs.readSync(r.fd, b, 0, r.length, r.position);
    } catch {}
    bytes.push(b.subarray(0, Math.max(0, n)));
    counts.push(n);
  }
  return { bytes, counts };
}

function assertSameAsPread(n: SparseNative, reads: Read[]): void {
  const got = job(n, reads);
  const want = preads(reads);
  reads.forEach((r, s) => {
    assert.equal(got.results[s], want.counts[s], `read ${s} (${r.position}+${r.length}) count`);
    const place = got.places[s] as number;
    const n = Math.max(0, want.counts[s] as number);
    assert.ok(got.arena.subarray(place, place + n).equals(want.bytes[s] as Buffer), `read ${s} bytes`);
  });
}

/** Random reads over the files, some reaching past a file's end (short there). */
function randomReads(fds: number[], count: number, seed: number): Read[] {
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x;
  };
  return Array.from({ length: count }, () => {
    const fd = fds[(next() >> 8) % fds.length] as number;
    const length = 1 + (next() % 5000);
    const position = next() % 8 === 0 ? fileBytes - (next() % 3000) : next() % (fileBytes - length);
    return { fd, position, length };
  });
}

test('reads through the mapping (twice by pread, then faulted in, then warm) equal preads of the same bytes', {
  skip,
}, async () => {
  const n = native as SparseNative;
  n.configure(1 << 30, true);
  assert.equal(n.mapping, true, 'the SIGBUS guard is installed');
  const { fds } = await files(3);
  const before = n.stats();
  const reads = randomReads(fds, 64, 7);
  // One read in each window, twice: preads only.
  const apart: Read[] = fds.flatMap((fd) =>
    Array.from({ length: fileBytes / 65536 }, (_, w) => ({ fd, position: w * 65536 + 100, length: 1000 })),
  );
  for (let pass = 0; pass < 2; pass++) assertSameAsPread(n, apart);
  const preadOnly = n.stats();
  assert.equal(preadOnly.faultIns, before.faultIns, 'windows read once or twice are read by pread');
  assert.equal(preadOnly.warm, before.warm);
  // The same reads four times: each window is read by pread twice, then faulted in, then copied warm.
  for (let pass = 0; pass < 4; pass++) assertSameAsPread(n, reads);
  for (let seed = 1; seed < 20; seed++) assertSameAsPread(n, randomReads(fds, 64, seed));
  const s = n.stats();
  assert.ok(s.preads > before.preads, 'first reads are preads');
  assert.ok(s.faultIns > before.faultIns, 'third reads fault the windows in');
  assert.ok(s.warm > before.warm, 'later reads copy from mapped windows');
  assert.equal(s.mappings, 3);
  assert.equal(s.guarded, before.guarded);
  for (const fd of fds) fs.closeSync(fd);
  n.dropMappings();
});

test('a read through a mapping of a file cut since (no SIGBUS escapes): it reads what a pread reads, the mapping is dropped', {
  skip,
}, async () => {
  const n = native as SparseNative;
  // No identity check per job: the cut is only seen when the copy faults (as when a file is cut during a job).
  n.configure(1 << 30, true, false);
  try {
    const { paths, fds } = await files(1);
    const fd = fds[0] as number;
    const reads: Read[] = [
      { fd, position: 10_000, length: 500 },
      { fd, position: 700_000, length: 900 },
      { fd, position: 900_000, length: 300 },
    ];
    for (let pass = 0; pass < 4; pass++) assertSameAsPread(n, reads);
    const before = n.stats();
    assert.ok(before.warm >= 3);
    fs.truncateSync(paths[0] as string, 100_000);
    // The first read is still in the file, the others past its end: 0 bytes, as pread says.
    const got = job(n, reads);
    assert.deepEqual([...got.results], [500, 0, 0]);
    const s = n.stats();
    assert.equal(s.guarded, before.guarded + 1, 'one SIGBUS caught');
    assert.equal(s.mappings, 0, 'its mapping dropped');
    assertSameAsPread(n, reads);
    fs.closeSync(fd);
  } finally {
    n.configure(1 << 30, true, true);
  }
});

test('a file cut between jobs is seen by the per-job check: reads past its new end are short, nothing faults', {
  skip,
}, async () => {
  const n = native as SparseNative;
  n.configure(1 << 30, true);
  const { paths, fds } = await files(1);
  const fd = fds[0] as number;
  const reads = randomReads(fds, 32, 3);
  for (let pass = 0; pass < 4; pass++) assertSameAsPread(n, reads);
  const before = n.stats();
  fs.truncateSync(paths[0] as string, 300_000);
  assertSameAsPread(n, reads);
  // Grown again (as a segment is re-extended after a cut): the zeros and the bytes kept read as a pread does.
  fs.truncateSync(paths[0] as string, fileBytes);
  for (let pass = 0; pass < 4; pass++) assertSameAsPread(n, reads);
  assert.equal(n.stats().guarded, before.guarded);
  fs.closeSync(fd);
  n.dropMappings();
});

test('a descriptor number reused for another file reads the new file, not the old mapping', { skip }, async () => {
  const n = native as SparseNative;
  n.configure(1 << 30, true);
  const { paths, fds } = await files(2);
  const [a, b] = fds as [number, number];
  fs.closeSync(b);
  const reads = (fd: number): Read[] => randomReads([fd], 32, 11);
  for (let pass = 0; pass < 4; pass++) assertSameAsPread(n, reads(a));
  assert.ok(n.stats().warm > 0);
  fs.closeSync(a);
  // The lowest free number comes back: the same number, now the other file.
  const again = fs.openSync(paths[1] as string, 'r');
  assert.equal(again, a);
  // Random files: the old file's bytes at the same places differ.
  assert.ok(
    !fs
      .readFileSync(paths[0] as string)
      .subarray(0, 4096)
      .equals(fs.readFileSync(paths[1] as string).subarray(0, 4096)),
  );
  for (let pass = 0; pass < 4; pass++) assertSameAsPread(n, reads(again));
  fs.closeSync(again);
  n.dropMappings();
});

test('dropMappings unmaps every file: a deleted file no longer appears in /proc/self/maps', { skip }, async () => {
  const n = native as SparseNative;
  n.configure(1 << 30, true);
  const { paths, fds } = await files(2);
  assertSameAsPread(
    n,
    fds.map((fd) => ({ fd, position: 5000, length: 700 })),
  );
  const maps = () => fs.readFileSync('/proc/self/maps', 'utf8');
  for (const p of paths) assert.ok(maps().includes(p), `${p} mapped`);
  for (const fd of fds) fs.closeSync(fd);
  for (const p of paths) fs.unlinkSync(p);
  assert.ok(maps().includes(paths[0] as string), 'still mapped after close and unlink');
  assert.equal(n.dropMappings(), 2);
  for (const p of paths) assert.ok(!maps().includes(p), `${p} unmapped`);
  assert.equal(n.stats().mappedBytes, 0);
});

test('the bytes faulted in stay within mapBytesMax; a mapping whose windows are not read again is dropped', {
  skip,
}, async () => {
  const n = native as SparseNative;
  const max = 256 * 1024;
  n.configure(max, true);
  const { fds } = await files(1);
  const fd = fds[0] as number;
  // Four windows fill the bound; then 24 places in the other twelve windows are read again and again.
  const first: Read[] = [0, 1, 2, 3].map((w) => ({ fd, position: w * 65536 + 1000, length: 3000 }));
  for (let j = 0; j < 3; j++) assertSameAsPread(n, first);
  assert.equal(n.stats().mappedBytes, max);
  const before = n.stats();
  const later: Read[] = Array.from({ length: 24 }, (_, k) => ({
    fd,
    position: (4 + (k % 12)) * 65536 + (k < 12 ? 100 : 30_000),
    length: 3000,
  }));
  for (let j = 0; j < 200; j++) {
    assertSameAsPread(n, later);
    assert.ok(n.stats().mappedBytes <= max, `${n.stats().mappedBytes} bytes mapped in`);
  }
  const s = n.stats();
  assert.ok(s.refused > before.refused, 'reads at the bound were preads');
  assert.ok(s.dropped > before.dropped, 'the mapping whose windows were no longer read was dropped');
  assert.ok(s.warm > before.warm, 'the windows read now were mapped in and read warm');
  // A working set within the bound stays mapped: every read warm, nothing dropped.
  n.configure(max, true);
  const few: Read[] = [0, 70_000, 140_000].map((position) => ({ fd, position, length: 2000 }));
  for (let j = 0; j < 3; j++) assertSameAsPread(n, few);
  const settled = n.stats();
  for (let j = 0; j < 2000; j++) assertSameAsPread(n, few);
  assert.equal(n.stats().warm, settled.warm + 6000);
  assert.equal(n.stats().dropped, settled.dropped);
  fs.closeSync(fd);
  n.dropMappings();
});

test('mapping off: every read is a pread; a descriptor < 0 or closed gives -1', { skip }, async () => {
  const n = native as SparseNative;
  n.configure(1 << 30, false);
  try {
    const { fds } = await files(2);
    const before = n.stats();
    const reads = randomReads(fds, 32, 9);
    for (let pass = 0; pass < 4; pass++) assertSameAsPread(n, reads);
    const s = n.stats();
    assert.equal(s.preads, before.preads + 128);
    assert.equal(s.warm, before.warm);
    assert.equal(s.mappings, 0);
    const closed = fds[1] as number;
    fs.closeSync(closed);
    const got = job(n, [
      { fd: -1, position: 0, length: 10 },
      { fd: closed, position: 0, length: 10 },
      { fd: fds[0] as number, position: 0, length: 10 },
    ]);
    assert.deepEqual([...got.results], [-1, -1, 10]);
    fs.closeSync(fds[0] as number);
  } finally {
    n.configure(1 << 30, true);
  }
});

test('a job that does not fit its arrays is refused before any read', { skip }, () => {
  const n = native as SparseNative;
  const jobs = new Float64Array(fields * 2);
  jobs.set([0, 0, 100, 0, 0, 0, 0, 100, 1000, 0]);
  assert.throws(() => n.readSpans(Buffer.alloc(200), jobs, 0, 2, fields, 0, new Int32Array(2), 0), RangeError);
  assert.throws(() => n.readSpans(Buffer.alloc(200), jobs, 0, 3, fields, 0, new Int32Array(3), 0), RangeError);
  assert.throws(() => n.readSpans(Buffer.alloc(200), jobs, 0, 1, fields, 0, new Int32Array(0), 0), RangeError);
});
