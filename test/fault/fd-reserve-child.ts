/**
 * Child process of fd-reserve.test.ts, run under a low fd limit: a broker over a file store. Prints
 * `ready <port>`; answers `open` on stdin with `open ok` or `open failed <code>` after creating, writing and
 * reading back a new file (what the store does for a checkpoint or a new queue file); `exit` closes the broker.
 * Does nothing unless started with --fd-reserve-child (the test runner may load this file as a test).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Broker } from '../../src/broker/broker.js';

const at = process.argv.indexOf('--fd-reserve-child');
if (at >= 0) {
  const dir = process.argv[at + 1] as string;
  const broker = new Broker({
    listenPort: 0,
    listenHost: '127.0.0.1',
    namesrvAddr: '',
    storePathRootDir: dir,
    connectionFdReserve: Number(process.argv[at + 2]),
  });
  await broker.start();
  process.stdout.write(`ready ${broker.port}\n`);
  let probes = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'open') {
      const file = path.join(dir, `probe-${++probes}`);
      try {
        await writeFile(file, 'probe');
        await readFile(file);
        process.stdout.write('open ok\n');
      } catch (err) {
        process.stdout.write(`open failed ${(err as NodeJS.ErrnoException).code}\n`);
      }
    } else if (line === 'exit') {
      await broker.close();
      process.exit(0);
    }
  }
}
