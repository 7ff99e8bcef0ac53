/**
 * Process lifecycle for long-running commands: components start in order and close in reverse on SIGINT /
 * SIGTERM, then the process exits 0. A second signal, or a close that hangs, exits 1 at once.
 */
import type { Logger } from '../common/log.js';

/** Something `tsrocket` runs until told to stop (NameServer, Broker, Proxy, Console…). */
export interface Component {
  readonly name: string;
  close(): Promise<void>;
}

/** What a subcommand returns: an exit code, or 'running' for servers that stop on a signal. */
export type CommandResult = number | 'running';

/** A close taking longer than this is abandoned and the process exits 1. */
export const shutdownTimeoutMs = 15_000;

/** Closes components in reverse start order; logs and continues past a failing one. Resolves to success. */
export async function closeAll(components: readonly Component[], log: Logger): Promise<boolean> {
  let ok = true;
  for (const c of [...components].reverse()) {
    try {
      await c.close();
    } catch (err) {
      ok = false;
      log.error('close failed', { component: c.name, err });
    }
  }
  return ok;
}

/** Installs SIGINT/SIGTERM handlers that close `components` (read when the signal comes, so callers may install
 * them before starting and push components as they start) and exit. Returns `fail(why)`: the same shutdown for a
 * fault the process cannot serve past (logged as an error, exit 1). */
export function exitOnSignals(components: readonly Component[], log: Logger): (why: string) => void {
  let stopping = false;
  const shutdown = (fields: Record<string, unknown>, failed: boolean) => {
    if (stopping) {
      log.warn('second signal, exiting now', fields);
      process.exit(1);
    }
    stopping = true;
    if (failed) log.error('shutting down', fields);
    else log.info('shutting down', fields);
    const timer = setTimeout(() => {
      log.error('shutdown timed out', { timeoutMs: shutdownTimeoutMs });
      process.exit(1);
    }, shutdownTimeoutMs);
    timer.unref();
    void closeAll(components, log).then((ok) => {
      log.info('stopped');
      process.exit(ok && !failed ? 0 : 1);
    });
  };
  const onSignal = (signal: NodeJS.Signals) => shutdown({ signal }, false);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return (why) => {
    if (!stopping) shutdown({ why }, true);
  };
}
