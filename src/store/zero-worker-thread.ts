/**
 * The zero worker's thread (zero-worker.ts starts it): a job writes zeros over a range of a descriptor the main
 * thread keeps open (a lease), in small writes so the file's inode lock is never held long against the put path's
 * copies into the same file, then fdatasyncs it so the blocks are allocated on disk; it answers twice (zeros
 * written, then synced) with the job's id, or once with the failed stage and the error's code.
 */
import { fdatasyncSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { ZeroJob, ZeroResult } from './zero-worker.js';

const port = parentPort;
const pieceBytes = 16 * 1024;
const zeros = Buffer.alloc(pieceBytes);

port?.on('message', (job: ZeroJob) => {
  let stage: ZeroResult['stage'] = 'written';
  try {
    for (let done = 0; done < job.length; ) {
      done += writeSync(job.fd, zeros, 0, Math.min(pieceBytes, job.length - done), job.position + done);
    }
    // The range may take records from here on; the fdatasync allocates its blocks.
    port.postMessage({ id: job.id, stage, error: undefined } satisfies ZeroResult);
    stage = 'synced';
    fdatasyncSync(job.fd);
    port.postMessage({ id: job.id, stage, error: undefined } satisfies ZeroResult);
  } catch (err) {
    const error = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    port.postMessage({ id: job.id, stage, error } satisfies ZeroResult);
  }
});
