/**
 * Runs a server command again in a child Node process started with the broker's `nodeFlags` (collector flags act
 * only when V8 starts). The first process stays as a thin launcher: it passes SIGINT/SIGTERM/SIGHUP on, exits
 * with the child's code, and if it is killed outright the child learns it through the closed IPC channel and
 * kills itself, as if the one process had been killed (nothing is left holding the ports and the data dir).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Logger } from '../common/log.js';
import { nodeFlagsMissing } from '../remoting/node-flags.js';
import type { CommandResult } from './lifecycle.js';

/** Set in the child's environment to the flags it was started with (and so never re-run again). */
export const relaunchedEnv = 'TSROCKET_NODE_FLAGS';

const forwardedSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const satisfies readonly NodeJS.Signals[];

/**
 * When this process lacks some of `flags` (and is not already the re-run child), re-runs the command with them
 * and resolves 'running' (the launcher exits when the child does); else undefined: carry on in this process.
 */
export function relaunchWithNodeFlags(flags: readonly string[], log: Logger): CommandResult | undefined {
  if (process.env[relaunchedEnv] !== undefined) {
    // Not passed on: a tsrocket this process starts decides for itself.
    delete process.env[relaunchedEnv];
    // The re-run child (a launcher's IPC channel; without one the variable came from elsewhere: ignored).
    if (process.channel !== undefined) {
      watchLauncher(process.channel);
      return undefined;
    }
  }
  const missing = nodeFlagsMissing(flags, process.execArgv);
  if (missing.length === 0) return undefined;
  const script = process.argv[1];
  if (script === undefined) return undefined;
  log.info('re-running with node flags', { nodeFlags: missing.join(' ') });
  const child = spawn(process.execPath, [...process.execArgv, ...missing, script, ...process.argv.slice(2)], {
    // Its own process group: a terminal's Ctrl-C reaches the launcher only, which passes it on once (a second
    // SIGINT would make the server exit at once instead of closing cleanly).
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [relaunchedEnv]: missing.join(' ') },
  });
  for (const signal of forwardedSignals) process.on(signal, () => child.kill(signal));
  child.once('error', (err) => {
    log.error('could not re-run with node flags', { err });
    process.exit(1);
  });
  child.once('exit', (code, signal) =>
    process.exit(code ?? (signal === null ? 1 : 128 + (constants.signals[signal] ?? 0))),
  );
  return 'running';
}

/** In the re-run child: the launcher's end (its IPC channel closing) ends this process too. */
function watchLauncher(channel: NonNullable<typeof process.channel>): void {
  // The channel must not keep the process alive on its own, nor delay a normal exit.
  channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}
