/**
 * Structured logs, one line each to stdout. TSROCKET_LOG_LEVEL = debug | info (default) | warn | error;
 * TSROCKET_LOG_FORMAT = text (default: `<ISO time> <LEVEL> [component] message key=value…`) or json (one object
 * per line: `{"time","level","component","msg",…fields}`, errors as their message, 64-bit numbers as strings).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: number = levelRank[(process.env['TSROCKET_LOG_LEVEL'] as LogLevel | undefined) ?? 'info'] ?? 20;
let format: LogFormat = process.env['TSROCKET_LOG_FORMAT'] === 'json' ? 'json' : 'text';
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

export function setLogFormat(next: LogFormat): void {
  format = next;
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

function safeJson(v: unknown): string | undefined {
  try {
    return JSON.stringify(v, jsonValue);
  } catch {
    return '[unserializable]';
  }
}

function formatFields(fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return '';
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    const text = v instanceof Error ? v.message : typeof v === 'string' ? v : safeJson(v);
    out += ` ${k}=${text !== undefined && /[\s"]/.test(text) ? JSON.stringify(text) : text}`;
  }
  return out;
}

function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return String(v);
  if (v instanceof Error) {
    const code = (v as { code?: unknown }).code;
    return code === undefined ? v.message : { message: v.message, code };
  }
  return v;
}

function jsonLine(level: LogLevel, component: string, msg: string, fields?: Record<string, unknown>): string {
  const out: Record<string, unknown> = { time: new Date().toISOString(), level, component, msg };
  if (fields !== undefined) for (const [k, v] of Object.entries(fields)) if (!(k in out)) out[k] = v;
  try {
    return JSON.stringify(out, jsonValue);
  } catch {
    // A cyclic field: keep the line, drop the fields.
    return JSON.stringify({ time: out['time'], level, component, msg, fields: 'unserializable' });
  }
}

export function createLogger(component: string): Logger {
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (levelRank[level] < threshold) return;
    if (format === 'json') sink(jsonLine(level, component, msg, fields));
    else sink(`${new Date().toISOString()} ${level.toUpperCase()} [${component}] ${msg}${formatFields(fields)}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
