/**
 * Child process of store-crash.test.ts: appends forever and prints `ack <seq> <queueId> <queueOffset>` per
 * acknowledged put, until SIGKILLed. Does nothing unless started with --store-crash-child (the test runner
 * may load this file as a test).
 */
import { createMessageStore, PutStatus } from '../../src/store/index.js';
import { crashMessage, crashStoreConfig } from './store-crash-shared.js';

const at = process.argv.indexOf('--store-crash-child');
if (at >= 0) {
  const dir = process.argv[at + 1] as string;
  const mode = process.argv[at + 2] as 'SYNC_FLUSH' | 'ASYNC_FLUSH';
  let seq = Number(process.argv[at + 3]);
  const store = createMessageStore({ ...crashStoreConfig(dir), flushDiskType: mode });
  await store.start();
  process.stdout.write('ready\n');
  const inFlight = 8;
  const worker = async () => {
    for (;;) {
      const n = seq++;
      const m = crashMessage(n);
      const r = await store.putMessage(m);
      if (r.status !== PutStatus.PUT_OK) {
        process.stderr.write(`put ${n} failed: ${r.status} ${r.remark}\n`);
        process.exit(2);
      }
      process.stdout.write(`ack ${n} ${m.queueId} ${r.queueOffset}\n`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}
