/** Structured logs, one line each to stdout: `<ISO time> <LEVEL> [component] message key=value…`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: number = levelRank[(process.env['TSROCKET_LOG_LEVEL'] as LogLevel | undefined) ?? 'info'] ?? 20;
const writeStdout = (line: string): void => {
  process.stdout.write(line + '\n');
};
let sink: (line: string) => void = writeStdout;
// A server must outlive its log reader: when stdout's reader goes away (EPIPE) logs are dropped, not fatal.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (sink === writeStdout) sink = () => {};
  if (err.code !== 'EPIPE') process.stderr.write(`tsrocket: stdout failed, logs dropped: ${err.message}\n`);
});

export function setLogLevel(level: LogLevel): void {
  threshold = levelRank[level];
}

/** Replaces where log lines go (tests capture them). */
export function setLogSink(next: (line: string) => void): void {
  sink = next;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function formatFields(fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return '';
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    const text = v instanceof Error ? v.message : typeof v === 'string' ? v : JSON.stringify(v);
    out += ` ${k}=${text !== undefined && /[\s"]/.test(text) ? JSON.stringify(text) : text}`;
  }
  return out;
}

export function createLogger(component: string): Logger {
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (levelRank[level] < threshold) return;
    sink(`${new Date().toISOString()} ${level.toUpperCase()} [${component}] ${msg}${formatFields(fields)}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
