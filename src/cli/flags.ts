/** Small helpers shared by the long-running subcommands (start, namesrv, broker). */
import { InvalidArgumentError } from '../common/errors.js';
import type { Logger } from '../common/log.js';

/** A `--port`-style flag: undefined when not given, else a port number (InvalidArgumentError otherwise). */
export function portFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (text.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`${flag}: expected a port number, got "${text}"`);
  }
  return port;
}

/** Tells someone at a terminal how to stop a server that runs in the foreground. */
export function sayHowToStop(log: Logger): void {
  log.info('press Ctrl+C to stop');
}
