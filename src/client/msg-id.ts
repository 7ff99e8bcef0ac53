/**
 * Client-side message ids (the UNIQ_KEY property), laid out like RocketMQ's MessageClientIDSetter:
 * IPv4 4 bytes + pid 2 bytes + a per-process random int 4 bytes, then milliseconds since the start of the
 * current month 4 bytes + a wrapping counter 2 bytes — 16 bytes as 32 upper-case hex characters.
 */
import { randomBytes } from 'node:crypto';
import { localIPv4 } from './local-address.js';

const fixedBytes = 10;

let fixedPrefix: Buffer | undefined;
let fixedPrefixHex = '';
let counter = 0;
let monthStartMs = 0;
let nextMonthStartMs = 0;
/** Upper-case hex of each byte value: ids are built from strings, not a Buffer + toString + toUpperCase. */
const hexByte = Array.from({ length: 256 }, (_, b) => b.toString(16).toUpperCase().padStart(2, '0'));
/** ASCII codes of the upper-case hex digits, for ids written straight into a message buffer. */
const hexDigitCodes = Buffer.from('0123456789ABCDEF', 'latin1');
/** The fixed prefix as ASCII hex bytes. */
let fixedPrefixAscii: Buffer | undefined;
/** Characters of a UNIQ_KEY. */
export const uniqIdChars = 32;

function prefix(): Buffer {
  if (fixedPrefix === undefined) {
    const buf = Buffer.alloc(fixedBytes);
    const parts = localIPv4().split('.').map(Number);
    for (let i = 0; i < 4; i++) buf[i] = parts[i] ?? 0;
    buf.writeUInt16BE(process.pid & 0xffff, 4);
    // RocketMQ uses the class loader's hash here: any per-process value that separates two clients on one host.
    randomBytes(4).copy(buf, 6);
    fixedPrefix = buf;
    fixedPrefixHex = buf.toString('hex').toUpperCase();
    fixedPrefixAscii = Buffer.from(fixedPrefixHex, 'latin1');
  }
  return fixedPrefix;
}

function refreshMonth(nowMs: number): void {
  const d = new Date(nowMs);
  monthStartMs = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
  nextMonthStartMs = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
}

/** A new UNIQ_KEY: 32 upper-case hex characters, unique per process and sortable by time within a month. */
export function createUniqId(nowMs: number = Date.now()): string {
  if (nowMs >= nextMonthStartMs || nowMs < monthStartMs) refreshMonth(nowMs);
  if (fixedPrefix === undefined) prefix();
  const t = (nowMs - monthStartMs) >>> 0;
  const c = counter;
  counter = (counter + 1) & 0xffff;
  return (
    fixedPrefixHex +
    hexByte[t >>> 24] +
    hexByte[(t >>> 16) & 0xff] +
    hexByte[(t >>> 8) & 0xff] +
    hexByte[t & 0xff] +
    hexByte[c >>> 8] +
    hexByte[c & 0xff]
  );
}

/** Characters of a UNIQ_KEY before its counter: the fixed prefix and the time. */
export const uniqIdHeadChars = 28;

/**
 * Writes the first 28 ASCII characters of the ids createUniqId gives at `nowMs` (all but the counter) into `buf`
 * at `at`: ids generated together share them, so a batch writes them once and copies them per message.
 */
export function writeUniqIdHead(buf: Buffer, at: number, nowMs: number): void {
  if (nowMs >= nextMonthStartMs || nowMs < monthStartMs) refreshMonth(nowMs);
  if (fixedPrefix === undefined) prefix();
  const pre = fixedPrefixAscii as Buffer;
  buf.set(pre, at);
  const t = (nowMs - monthStartMs) >>> 0;
  let p = at + pre.length;
  for (let shift = 28; shift >= 0; shift -= 4) buf[p++] = hexDigitCodes[(t >>> shift) & 0xf] as number;
}

/** Takes createUniqId's next counter value and writes it as the id's last 4 ASCII characters at `at`. */
export function writeUniqIdCounter(buf: Buffer, at: number): void {
  const c = counter;
  counter = (counter + 1) & 0xffff;
  buf[at] = hexDigitCodes[c >>> 12] as number;
  buf[at + 1] = hexDigitCodes[(c >>> 8) & 0xf] as number;
  buf[at + 2] = hexDigitCodes[(c >>> 4) & 0xf] as number;
  buf[at + 3] = hexDigitCodes[c & 0xf] as number;
}

/**
 * createUniqId written as 32 ASCII bytes into `buf` at `at`, without building a string. Shares createUniqId's
 * counter: ids stay unique.
 */
export function writeUniqId(buf: Buffer, at: number, nowMs: number = Date.now()): void {
  writeUniqIdHead(buf, at, nowMs);
  writeUniqIdCounter(buf, at + uniqIdHeadChars);
}

/** What a UNIQ_KEY carries: the producer's IPv4, its pid (low 16 bits) and the creation time (ms). */
export interface UniqIdInfo {
  ip: string;
  pid: number;
  timestampMs: number;
}

/** Reads a 32-hex UNIQ_KEY; `undefined` when the id is not in that format. */
export function parseUniqId(id: string): UniqIdInfo | undefined {
  if (!/^[0-9A-Fa-f]{32}$/.test(id)) return undefined;
  const buf = Buffer.from(id, 'hex');
  const offsetMs = buf.readUInt32BE(fixedBytes);
  // Month start in the local time zone, as the producer computed it (taken from "now": ids are short-lived).
  const now = new Date();
  let start = new Date(now.getFullYear(), now.getMonth(), 1).getTime();
  if (start + offsetMs > now.getTime() + 60_000) start = new Date(now.getFullYear(), now.getMonth() - 1, 1).getTime();
  return {
    ip: `${buf[0]}.${buf[1]}.${buf[2]}.${buf[3]}`,
    pid: buf.readUInt16BE(4),
    timestampMs: start + offsetMs,
  };
}
