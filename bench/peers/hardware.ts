/** The machine's own limits, measured in the same run: sequential write, fdatasync rate, loopback TCP. */
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { HardwareLimits } from './results.js';

const mib = 1024 * 1024;

/** Writes `totalMiB` in 1 MiB chunks then fdatasyncs: MiB/s to stable storage. */
export async function seqWriteMiBps(dir: string, totalMiB: number): Promise<number> {
  const file = path.join(dir, 'hw-seq-write');
  const fh = await fs.open(file, 'w');
  const chunk = Buffer.alloc(mib, 7);
  const t0 = performance.now();
  try {
    for (let i = 0; i < totalMiB; i++) await fh.write(chunk, 0, mib, i * mib);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  await fs.rm(file, { force: true });
  return totalMiB / seconds;
}

/** 4 KiB append + fdatasync back to back for `durationMs`: syncs per second. */
export async function fdatasyncPerSec(dir: string, durationMs: number): Promise<number> {
  const file = path.join(dir, 'hw-fsync');
  const fh = await fs.open(file, 'w');
  const block = Buffer.alloc(4096, 1);
  let n = 0;
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < durationMs) {
      await fh.write(block, 0, block.length, n * 4096);
      await fh.datasync();
      n++;
    }
  } finally {
    await fh.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  await fs.rm(file, { force: true });
  return n / seconds;
}

/** Streams `totalMiB` over a 127.0.0.1 TCP connection in 64 KiB writes: MiB/s received. */
export async function loopbackMiBps(totalMiB: number): Promise<number> {
  const total = totalMiB * mib;
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const received = new Promise<number>((resolve, reject) => {
      server.once('connection', (sock) => {
        let got = 0;
        const t0 = performance.now();
        sock.on('data', (d: Buffer) => {
          got += d.length;
          if (got >= total) {
            resolve((performance.now() - t0) / 1000);
            sock.destroy();
          }
        });
        sock.on('error', reject);
      });
    });
    const client = net.connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(64 * 1024, 3);
    await new Promise<void>((resolve) => client.once('connect', resolve));
    let sent = 0;
    while (sent < total) {
      sent += chunk.length;
      if (!client.write(chunk)) await new Promise((resolve) => client.once('drain', resolve));
    }
    const seconds = await received;
    client.destroy();
    return totalMiB / seconds;
  } finally {
    server.close();
  }
}

export async function measureHardware(dir: string, scale: number): Promise<HardwareLimits> {
  const sizeMiB = Math.max(64, Math.round(1024 * Math.min(1, scale * 4)));
  return {
    seqWriteMiBps: await seqWriteMiBps(dir, sizeMiB),
    fdatasyncPerSec: await fdatasyncPerSec(dir, 2000),
    loopbackMiBps: await loopbackMiBps(Math.max(256, sizeMiB)),
  };
}
