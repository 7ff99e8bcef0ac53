/**
 * Where the SDK's log lines go: the `logger` given in the client options (each call gets a `component` field),
 * else tsrocket's own line logger on stdout (src/common/log.ts, TSROCKET_LOG_LEVEL / TSROCKET_LOG_FORMAT).
 */
import { createLogger, type Logger, type LogLevel } from '../common/log.js';

export type { Logger } from '../common/log.js';

export function clientLogger(user: Logger | undefined, component: string): Logger {
  if (user === undefined) return createLogger(component);
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> | undefined) => {
    try {
      user[level](msg, fields === undefined ? { component } : { component, ...fields });
    } catch {
      // A failing user logger must not break sends or consumption.
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
