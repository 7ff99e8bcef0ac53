/**
 * RocketMQ-style configuration: `key=value` files (broker.conf, namesrv.properties) with RocketMQ's key names,
 * checked against one table of known keys per role and merged as defaults < file < command-line flags.
 * An unknown key is a warning naming the nearest known key; a bad value, or a key whose feature is not built
 * yet, is a ConfigError, so nothing a user wrote is silently dropped or silently ignored.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from './errors.js';

export type ConfigScalar = string | number | boolean;
export type ConfigKind = 'string' | 'int' | 'number' | 'bool';

/** One known key: how its text is read, what it may hold, what it means, and whether it does anything yet. */
export interface ConfigKey<T extends ConfigScalar = ConfigScalar> {
  readonly kind: ConfigKind;
  readonly default: T;
  /** How the reference shows a default computed at start (home directory, network interfaces). */
  readonly defaultText?: string;
  /** The only values accepted (an enumeration). */
  readonly values?: readonly T[];
  readonly min?: number;
  readonly max?: number;
  /** What is wrong with an otherwise well-typed value, or undefined. */
  check?(value: T): string | undefined;
  /** One line for the configuration reference. */
  readonly doc: string;
  /** A tsrocket key; RocketMQ has no such key. */
  readonly tsrocket?: true;
  /**
   * The feature this key drives is not built yet: a value other than the default (or, when `values` is given,
   * one of those) is refused until the feature lands, instead of being accepted and ignored.
   */
  readonly notBuilt?: { readonly feature: string; readonly values?: readonly T[] };
  /** A RocketMQ key that means nothing here (thread pools, JVM memory): accepted with a warning saying why. */
  readonly inert?: string;
}

/** The known keys of one role. `aliases` maps another accepted spelling to its key. */
export interface ConfigSchema {
  readonly role: string;
  readonly keys: Readonly<Record<string, ConfigKey>>;
  readonly aliases?: Readonly<Record<string, string>>;
}

/** A refused configuration: bad type, value outside the allowed ones, or a feature that is not built yet. */
export class ConfigError extends InvalidArgumentError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

/** Something worth telling the operator that does not stop the start (unknown key, overridden file value). */
export interface ConfigWarning {
  readonly key: string;
  readonly message: string;
  /** Structured details for the log line (file value, flag value, suggestion…). */
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * One layer of settings. `default` layers replace built-in defaults quietly (what `tsrocket start` chooses),
 * `file` layers come from a config file, `flag` layers from the command line, `options` from code.
 */
export interface ConfigLayer {
  readonly kind: 'default' | 'file' | 'flag' | 'options';
  /** Where the values came from, for messages: a file path, "command line", "options". */
  readonly source: string;
  readonly values: Readonly<Record<string, ConfigScalar | undefined>>;
  /** Spelling of the flag that set a key ("--port"), for messages. */
  readonly names?: Readonly<Record<string, string>>;
}

export interface ResolvedConfig {
  /** Every key of the schema: its default unless a layer set it. */
  readonly values: Record<string, ConfigScalar>;
  /** The kind of the last layer that set each key. */
  readonly setBy: ReadonlyMap<string, ConfigLayer['kind']>;
  readonly warnings: ConfigWarning[];
}

/**
 * Parses Java-properties-like text: one `key=value` (or `key: value`) per line, `#`/`!` comments,
 * blank lines ignored, keys and values trimmed. A later duplicate key wins. Backslash escapes are not
 * interpreted. Throws InvalidArgumentError naming the line when a line has no separator.
 */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const eq = line.indexOf('=');
    const colon = line.indexOf(':');
    const sep = eq < 0 ? colon : colon < 0 ? eq : Math.min(eq, colon);
    if (sep <= 0)
      throw new InvalidArgumentError(`config line ${i + 1}: expected key=value, got ${JSON.stringify(line)}`);
    out[line.slice(0, sep).trim()] = line.slice(sep + 1).trim();
  }
  return out;
}

/** Reads and parses a `key=value` file. */
export async function readConfigFile(path: string): Promise<Record<string, string>> {
  return parseProperties(await readFile(path, 'utf8'));
}

/** Reads a value of a layer (text from a file, or a typed value from code) as the key's kind. */
export function coerceValue(key: string, spec: ConfigKey, value: ConfigScalar, source = ''): ConfigScalar {
  const where = source === '' ? '' : ` (${source})`;
  const bad = (expected: string): ConfigError =>
    new ConfigError(key, `config ${key}=${JSON.stringify(value)}${where}: expected ${expected}`);
  switch (spec.kind) {
    case 'int':
    case 'number': {
      const n = typeof value === 'number' ? value : String(value).trim() === '' ? Number.NaN : Number(value);
      if (!Number.isFinite(n) || (spec.kind === 'int' && !Number.isInteger(n)))
        throw bad(spec.kind === 'int' ? 'an integer' : 'a number');
      return n;
    }
    case 'bool': {
      if (typeof value === 'boolean') return value;
      const t = String(value).trim().toLowerCase();
      if (t === 'true') return true;
      if (t === 'false') return false;
      throw bad('true or false');
    }
    case 'string':
      return typeof value === 'string' ? value : String(value);
  }
}

/** Checks a coerced value against the key's allowed values, range and own check; throws ConfigError. */
export function checkValue(key: string, spec: ConfigKey, value: ConfigScalar, source = ''): void {
  const where = source === '' ? '' : ` (${source})`;
  const refuse = (why: string): never => {
    throw new ConfigError(key, `config ${key}=${JSON.stringify(value)}${where}: ${why}`);
  };
  if (spec.values !== undefined && !spec.values.includes(value)) refuse(`allowed values: ${spec.values.join(', ')}`);
  if (typeof value === 'number') {
    if (spec.min !== undefined && value < spec.min) refuse(`must be at least ${spec.min}`);
    if (spec.max !== undefined && value > spec.max) refuse(`must be at most ${spec.max}`);
  }
  const problem = spec.check?.(value);
  if (problem !== undefined) refuse(problem);
}

/** Whether `value` asks for a feature that is not built yet. */
export function wantsUnbuiltFeature(spec: ConfigKey, value: ConfigScalar): boolean {
  if (spec.notBuilt === undefined) return false;
  return spec.notBuilt.values === undefined ? value !== spec.default : spec.notBuilt.values.includes(value);
}

/**
 * Merges the schema's defaults with `layers` in order. Every value is read as its key's kind and checked
 * (ConfigError naming key, value and what is allowed); unknown keys and inert keys become warnings, as does
 * a flag that overrides a different value from a file. A key whose feature is not built yet is refused.
 */
export function resolveConfig(schema: ConfigSchema, layers: readonly ConfigLayer[]): ResolvedConfig {
  const values: Record<string, ConfigScalar> = {};
  for (const [key, spec] of Object.entries(schema.keys)) values[key] = spec.default;
  const setBy = new Map<string, ConfigLayer>();
  const warnings: ConfigWarning[] = [];
  for (const layer of layers) {
    const spelledAs = new Map<string, string>();
    for (const [given, raw] of Object.entries(layer.values)) {
      if (raw === undefined) continue;
      const key = schema.aliases?.[given] ?? given;
      const spec = Object.hasOwn(schema.keys, key) ? schema.keys[key] : undefined;
      if (spec === undefined) {
        warnings.push(unknownKeyWarning(schema, given, layer.source));
        continue;
      }
      const value = coerceValue(key, spec, raw, layer.source);
      checkValue(key, spec, value, layer.source);
      const other = spelledAs.get(key);
      if (other !== undefined && values[key] !== value) {
        throw new ConfigError(key, `config ${other} and ${given} (${layer.source}) name one setting but differ`);
      }
      spelledAs.set(key, given);
      const before = setBy.get(key);
      if (layer.kind === 'flag' && before?.kind === 'file' && values[key] !== value) {
        const flag = layer.names?.[key] ?? key;
        warnings.push({
          key,
          message: `${flag} overrides ${key} from ${before.source}`,
          fields: { key, file: String(values[key]), flag: String(value), flagName: flag, fileName: before.source },
        });
      }
      values[key] = value;
      setBy.set(key, layer);
      if (spec.inert !== undefined) {
        warnings.push({
          key,
          message: `${key} has no effect in tsrocket: ${spec.inert}`,
          fields: { key, source: layer.source },
        });
      }
    }
  }
  for (const [key, layer] of setBy) {
    const spec = schema.keys[key] as ConfigKey;
    const value = values[key] as ConfigScalar;
    if (wantsUnbuiltFeature(spec, value)) {
      throw new ConfigError(
        key,
        `config ${key}=${String(value)} (${layer.source}): ${spec.notBuilt?.feature} is not built yet in tsrocket; ` +
          `remove the key or set it to ${String(spec.default)}`,
      );
    }
  }
  const kinds = new Map<string, ConfigLayer['kind']>();
  for (const [key, layer] of setBy) kinds.set(key, layer.kind);
  return { values, setBy: kinds, warnings };
}

function unknownKeyWarning(schema: ConfigSchema, key: string, source: string): ConfigWarning {
  const known = [...Object.keys(schema.keys), ...Object.keys(schema.aliases ?? {})];
  const near = nearestKey(key, known);
  const hint = near === undefined ? '' : ` (did you mean ${near}?)`;
  return {
    key,
    message: `unknown ${schema.role} config key ${key}${hint}; ignored`,
    fields: near === undefined ? { key, source } : { key, source, didYouMean: near },
  };
}

/** The known key closest to `key` (case-insensitive edit distance, a swap of neighbours counting 1), if close. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(key.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] as number;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i * cols + j] = v;
    }
  }
  return at(a.length, b.length);
}

/** The defaults of a typed key table, as the object they describe. */
export function defaultsOf<T>(keys: { readonly [K in keyof T]: ConfigKey }): T {
  const out: Record<string, ConfigScalar> = {};
  for (const [key, spec] of Object.entries(keys) as [string, ConfigKey][]) out[key] = spec.default;
  return out as T;
}

/** An inert RocketMQ key (see ConfigKey.inert). */
export function inertKey(kind: ConfigKind, value: ConfigScalar, why: string, doc: string): ConfigKey {
  return { kind, default: value, inert: why, doc };
}

/** "host:port" with a port in 1..65535; what is wrong with `addr`, or undefined. */
export function hostPortProblem(addr: string): string | undefined {
  const at = addr.lastIndexOf(':');
  const port = Number(addr.slice(at + 1));
  if (at <= 0 || !/^\d+$/.test(addr.slice(at + 1)) || port < 1 || port > 65535)
    return `expected host:port, got "${addr}"`;
  return undefined;
}

/** Whether `text` is a dotted IPv4 address. */
export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}
