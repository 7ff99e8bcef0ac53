/**
 * RocketMQ-style configuration: `key=value` files (broker.conf, namesrv.properties) with RocketMQ's key names,
 * merged as defaults < file < command-line flags. Unknown keys are kept, not rejected, so a RocketMQ user's
 * file with keys we do not implement yet still loads.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from './errors.js';

export type ConfigScalar = string | number | boolean;
/** A typed config object: every key has a default whose type decides how file text is read. */
export type ConfigShape = Record<string, ConfigScalar>;
/** One layer of overrides: text from a file, or values from flags (undefined = not given). */
export type ConfigLayer = Record<string, ConfigScalar | undefined>;

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

function toNumber(key: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (text === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new InvalidArgumentError(`config ${key}: expected ${integer ? 'an integer' : 'a number'}, got "${text}"`);
  }
  return n;
}

function toBool(key: string, text: string): boolean {
  const t = text.toLowerCase();
  if (t === 'true') return true;
  if (t === 'false') return false;
  throw new InvalidArgumentError(`config ${key}: expected true or false, got "${text}"`);
}

/** Coerces one value to the type of its default; strings from files are parsed, typed flag values kept. */
function coerce(key: string, fallback: ConfigScalar, value: ConfigScalar): ConfigScalar {
  if (typeof fallback === 'number') {
    return typeof value === 'number' ? value : toNumber(key, String(value).trim(), Number.isInteger(fallback));
  }
  if (typeof fallback === 'boolean') return typeof value === 'boolean' ? value : toBool(key, String(value).trim());
  return String(value);
}

export interface MergedConfig<T extends ConfigShape> {
  config: T;
  /** Keys no default knows about, last layer wins; kept for components that read them and for diagnostics. */
  unknown: Record<string, string>;
}

/**
 * Merges defaults < layers in order (e.g. file, then CLI flags). Known keys are coerced to their default's
 * type (InvalidArgumentError on bad text); undefined values in a layer are skipped.
 */
export function mergeConfig<T extends ConfigShape>(defaults: T, ...layers: ConfigLayer[]): MergedConfig<T> {
  const config: ConfigShape = { ...defaults };
  const unknown: Record<string, string> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      if (Object.hasOwn(defaults, key)) config[key] = coerce(key, defaults[key] as ConfigScalar, value);
      else unknown[key] = String(value);
    }
  }
  return { config: config as T, unknown };
}

/** NameServer settings, named as RocketMQ's NamesrvConfig / NettyServerConfig keys. */
export interface NamesrvConfig extends ConfigShape {
  /** TCP port; 0 = ephemeral (tests). */
  listenPort: number;
  /** Bind address. */
  bindAddress: string;
  rocketmqHome: string;
  /** Where PUT_KV_CONFIG entries persist (KVConfigSerializeWrapper JSON); '' keeps them in memory only. */
  kvConfigPath: string;
  /** A broker not re-registered within this many ms is dropped (RocketMQ: 120 s). */
  brokerChannelExpiredTime: number;
  /** How often the expiry scan runs, ms (RocketMQ: 5 s). */
  scanNotActiveBrokerInterval: number;
  enableAllTopicList: boolean;
  enableTopicList: boolean;
  /** Adds the ORDER_TOPIC_CONFIG KV entry of a topic to its route as `orderTopicConf`. */
  orderMessageEnable: boolean;
  /** On registration, drop this broker's topics missing from its topic config table. */
  deleteTopicWithBrokerRegistration: boolean;
}

export function namesrvConfigDefaults(): NamesrvConfig {
  return {
    listenPort: 9876,
    bindAddress: '0.0.0.0',
    rocketmqHome: process.env['ROCKETMQ_HOME'] ?? '',
    kvConfigPath: '',
    brokerChannelExpiredTime: 120_000,
    scanNotActiveBrokerInterval: 5_000,
    enableAllTopicList: true,
    enableTopicList: true,
    orderMessageEnable: false,
    deleteTopicWithBrokerRegistration: false,
  };
}
