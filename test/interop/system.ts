/** Runs `tsrocket start` as its own process for interop tests: fresh data directory, any free ports. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface RunningSystem {
  /** "127.0.0.1:<port>" of the NameServer. */
  nameSrv: string;
  /** Scratch directory of this run (the broker's data lives under it); removed by stop(). */
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts `tsrocket start`; `brokerConf` (broker.conf lines) is passed with `-c` when given. */
export async function startSystem(brokerConf?: string): Promise<RunningSystem> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tsrocket-interop-'));
  // Bound to loopback: on a wildcard bind the broker would register this machine's LAN address.
  const args = [
    cli,
    'start',
    '--data',
    join(dataDir, 'data'),
    '--host',
    '127.0.0.1',
    '--namesrv-port',
    '0',
    '--broker-port',
    '0',
    // The 4.x clients' system: no gRPC endpoint (test/proxy/start.test.ts shows one started with it).
    '--no-grpc',
  ];
  if (brokerConf !== undefined) {
    const file = join(dataDir, 'broker.conf');
    await writeFile(file, brokerConf);
    args.push('-c', file);
  }
  const server: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const nameSrv = await new Promise<string>((resolve, reject) => {
      let out = '';
      let port = '';
      // An exit is reported at once (below); a process still starting on a loaded machine is given a minute (15 s
      // ran out at load 40 with the NameServer up and the broker still opening its store).
      const timer = setTimeout(() => reject(new Error(`tsrocket start did not come up in 60 s:\n${out}`)), 60_000);
      server.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        port ||= /NameServer listening port=(\d+)/.exec(out)?.[1] ?? '';
        if (port !== '' && out.includes('tsrocket started')) {
          clearTimeout(timer);
          resolve(`127.0.0.1:${port}`);
        }
      });
      server.once('exit', (code) => reject(new Error(`tsrocket start exited with ${code}:\n${out}`)));
    });
    return { nameSrv, dataDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
