/**
 * Allocates a CommitLog segment's blocks before anything is written into it (Linux, ext4/xfs): `fallocate(1)` makes
 * them unwritten extents, so the put path's page-cache copies find their blocks mapped. Without it every new page of a
 * sparse segment is a delayed allocation, which takes the inode's block-map lock for writing (ext4's `i_data_sem`,
 * in `ext4_da_get_block_prep`) — the lock the periodic flush's writeback holds while it allocates the blocks of what
 * was written before, so the event loop waited behind the flush (bench:fairness: up to 102 ms per run, measured on
 * the event-loop thread). Allocation of a whole 1 GiB segment takes milliseconds and writes no data; reads of
 * unwritten extents return zeros, as the holes did, so recovery and readers see no difference.
 *
 * Node has no fallocate, so one `sh` per process (started at the first request, while the heap is small: a fork of a
 * large process stalls its event loop for tens of ms) runs `fallocate` for each request on
 * `/proc/<pid>/fd/<fd>` — the open file itself, never a path that a deleted segment could be re-created at — with
 * the descriptor leased until the answer. Best effort: a failure (no `fallocate`, a file system without it, ENOSPC)
 * is reported to the caller and leaves the segment sparse, as before.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { FileIO } from './io.js';

/** Reads `<offset> <length> <path>` lines and answers each with `ok` or `fail <message>`, in order. */
const helperScript =
  'while read -r off len path; do ' +
  'if out=$(fallocate -o "$off" -l "$len" "$path" 2>&1); then echo ok; else echo "fail $(echo $out)"; fi; ' +
  'done';

type Answer = (err: Error | undefined) => void;

class Helper {
  private readonly child: ChildProcess;
  private readonly waiting: Answer[] = [];
  private out = '';
  dead = false;

  constructor(command: string) {
    this.child = spawn('/bin/sh', ['-c', helperScript.replace('fallocate', command)], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    // An idle helper does not keep the process alive (a request out does, until its answer).
    this.child.stdin?.on('error', () => this.end(new Error('block allocation helper closed its input')));
    this.hold(false);
    this.child.stdout?.setEncoding('latin1');
    this.child.stdout?.on('data', (d: string) => this.data(d));
    this.child.once('error', (err) => this.end(err));
    this.child.once('exit', (code, signal) =>
      this.end(new Error(`block allocation helper exited (${code ?? signal})`)),
    );
  }

  request(offset: number, length: number, path: string, answer: Answer): void {
    if (this.waiting.push(answer) === 1) this.hold(true);
    this.child.stdin?.write(`${offset} ${length} ${path}\n`);
  }

  kill(): void {
    this.child.kill();
  }

  private data(d: string): void {
    this.out += d;
    for (let nl = this.out.indexOf('\n'); nl >= 0; nl = this.out.indexOf('\n')) {
      const line = this.out.slice(0, nl);
      this.out = this.out.slice(nl + 1);
      this.waiting.shift()?.(line === 'ok' ? undefined : new Error(`fallocate: ${line.replace(/^fail /, '')}`));
    }
    if (this.waiting.length === 0) this.hold(false);
  }

  /** Keeps the process alive while answers are due. */
  private hold(on: boolean): void {
    for (const h of [this.child, this.child.stdin, this.child.stdout] as unknown as ({
      ref?: () => void;
      unref?: () => void;
    } | null)[]) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }

  private end(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.hold(false);
    for (const w of this.waiting.splice(0)) w(err);
  }
}

let helper: Helper | undefined;
/** The command run per request (tests point it at a missing one). */
let command = 'fallocate';

/** Whether the files of this platform can be allocated this way. */
export const allocationSupported = process.platform === 'linux';

/**
 * Allocates `length` bytes of `file` at `offset` (blocks already there are kept, data is never changed). Resolves
 * when done; rejects when the file cannot be allocated this way (no descriptor to lease, not Linux, the helper or
 * `fallocate` failed).
 */
export function allocate(file: FileIO, offset: number, length: number): Promise<void> {
  if (!allocationSupported) return Promise.reject(new Error('block allocation needs Linux'));
  const fd = file.leaseFd?.();
  if (fd === undefined) return Promise.reject(new Error('the file has no descriptor to allocate through'));
  if (helper === undefined || helper.dead) helper = new Helper(command);
  const h = helper;
  return new Promise<void>((resolve, reject) => {
    h.request(offset, length, `/proc/${process.pid}/fd/${fd}`, (err) => {
      file.endLease?.();
      if (err === undefined) resolve();
      else reject(err);
    });
  });
}

/** Tests: the command run for each request, and a fresh helper for it. */
export function setAllocateCommandForTest(cmd: string): void {
  command = cmd;
  helper?.kill();
  helper = undefined;
}
