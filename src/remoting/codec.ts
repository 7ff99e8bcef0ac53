/**
 * Frame codec: `[int32 length of the rest][int8 serialize type | int24 header length][header][body]`, big-endian.
 * Serialize type 0 = JSON header (fastjson field names), 1 = ROCKETMQ binary header (rocketmq-header.ts).
 */
import type { RemotingCommand } from './command.js';
import { SerializeType } from './command.js';
import { RemotingProtocolError } from './errors.js';
import { planBinaryHeader, readBinaryHeader, setField, writeBinaryHeader } from './rocketmq-header.js';

export { FrameDecoder } from './frame-decoder.js';

/** Largest frame (length field value) accepted or produced. */
export const frameBytesMax = 16 * 1024 * 1024;
/** Largest header accepted or produced. */
export const headerBytesMax = 64 * 1024;

const prefixBytes = 8; // length + serialize type/header length

/** Buffer#subarray called through a constant: `buf.subarray` is a generic property load in optimized code here. */
const bufferSubarray = Buffer.prototype.subarray;

/**
 * Encodes a frame as `[prefix + header, body?]` without copying the body: for `writev` / corked writes.
 * Throws RemotingProtocolError when the header or frame breaks a limit.
 */
export function encodeFrameParts(cmd: RemotingCommand, bytesMax: number = frameBytesMax): Buffer[] {
  const parts = cmd.bodyParts;
  let bodyBytes = cmd.body?.length ?? 0;
  if (parts !== undefined) for (const b of parts) bodyBytes += b.length;
  let head: Buffer;
  if (cmd.serializeType === SerializeType.rocketmq) {
    const plan = planBinaryHeader(cmd);
    head = allocHead(plan.bytes, bodyBytes, SerializeType.rocketmq, bytesMax);
    writeBinaryHeader(cmd, plan, head, prefixBytes);
  } else {
    const json = jsonHeader(cmd);
    // ASCII (the usual case, known while writing it): its length is its byte count, and latin1 copies it.
    const ascii = jsonAscii;
    const headerBytes = ascii ? json.length : Buffer.byteLength(json, 'utf8');
    head = allocHead(headerBytes, bodyBytes, SerializeType.json, bytesMax);
    head.write(json, prefixBytes, headerBytes, ascii ? 'latin1' : 'utf8');
  }
  if (bodyBytes === 0) return [head];
  if (parts === undefined) return [head, cmd.body!];
  const out = cmd.body === undefined ? [head] : [head, cmd.body];
  for (const b of parts) out.push(b);
  return out;
}

function allocHead(headerBytes: number, bodyBytes: number, type: number, bytesMax: number): Buffer {
  if (headerBytes > headerBytesMax) {
    throw new RemotingProtocolError(`header of ${headerBytes} bytes exceeds headerBytesMax ${headerBytesMax}`);
  }
  const length = 4 + headerBytes + bodyBytes;
  if (length > bytesMax) throw new RemotingProtocolError(`frame of ${length} bytes exceeds frameBytesMax ${bytesMax}`);
  const head = headBuffer(prefixBytes + headerBytes);
  // Byte stores, not head.writeInt32BE (a generic property load and a call each here).
  head[0] = length >>> 24;
  head[1] = length >>> 16;
  head[2] = length >>> 8;
  head[3] = length;
  head[4] = type;
  head[5] = headerBytes >>> 16;
  head[6] = headerBytes >>> 8;
  head[7] = headerBytes;
  return head;
}

/**
 * Frame heads (prefix + header) are carved from a shared slab: a send answer's head is ~2 KiB (a batch's offsetMsgIds),
 * and Buffer.allocUnsafe's 8 KiB pool made a new external ArrayBuffer every third answer (its allocation, and its sweep
 * at each scavenge). Every head is written whole before it is handed out, and sent at once: a slab lives as long as an
 * unsent head in it (at most `headSlabBytes` per head a slow peer holds).
 */
const headSlabBytes = 64 * 1024;
/** Heads longer than this are allocated on their own. */
const headSlabPieceMax = 8 * 1024;
let headSlab = Buffer.allocUnsafeSlow(0);
let headSlabUsed = 0;

function headBuffer(bytes: number): Buffer {
  if (bytes > headSlabPieceMax) return Buffer.allocUnsafe(bytes);
  if (headSlabUsed + bytes > headSlab.length) {
    headSlab = Buffer.allocUnsafeSlow(headSlabBytes);
    headSlabUsed = 0;
  }
  const head = bufferSubarray.call(headSlab, headSlabUsed, headSlabUsed + bytes);
  // 8-byte aligned, as Buffer's pool.
  headSlabUsed = (headSlabUsed + bytes + 7) & ~7;
  return head;
}

/**
 * JSON header with fastjson's (alphabetical) field order; absent remark/extFields are omitted. The text is
 * JSON.stringify's of `{code, extFields, flag, language, opaque, remark, serializeTypeCurrentRPC, version}`, written
 * directly: JSON.stringify scanned a batch answer's ~2 KiB offsetMsgIds for characters to escape (~2.7 µs here), and
 * the result was scanned again for its UTF-8 length. A string of printable ASCII without `"` or `\\` is written as it
 * is (short ones checked by a char loop, plainFields not checked); any other value goes through JSON.stringify.
 */
function jsonHeader(cmd: RemotingCommand): string {
  jsonAscii = true;
  let out = `{"code":${jsonNumber(cmd.code)}`;
  const ext = cmd.extFields;
  if (ext !== undefined) out += `,"extFields":${jsonFields(ext, cmd.plainFields)}`;
  out += `,"flag":${jsonNumber(cmd.flag)},"language":${jsonValue(cmd.language)},"opaque":${jsonNumber(cmd.opaque)}`;
  if (cmd.remark !== undefined) out += `,"remark":${jsonValue(cmd.remark)}`;
  return `${out},"serializeTypeCurrentRPC":"JSON","version":${jsonNumber(cmd.version)}}`;
}

/** Whether the last jsonHeader text is all ASCII (false when unsure). */
let jsonAscii = true;
/** Strings up to this length are checked by a char loop; longer ones (not plainFields) go through JSON.stringify. */
const jsonLoopCharsMax = 256;

function jsonNumber(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  return jsonValue(v);
}

/** JSON.stringify's text of a value that is not undefined (typed fields: numbers and strings). */
function jsonValue(v: unknown): string {
  if (typeof v === 'string') return jsonString(v);
  if (typeof v === 'number') return jsonNumber(v);
  const text = JSON.stringify(v) as string | undefined;
  if (text === undefined) throw new RemotingProtocolError(`header value of type ${typeof v} has no JSON form`);
  jsonAscii = false;
  return text;
}

function jsonString(s: string): string {
  const n = s.length;
  if (n <= jsonLoopCharsMax) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) break;
    }
    if (i === n) return `"${s}"`;
  }
  jsonAscii = false;
  return JSON.stringify(s);
}

/** An extFields object as JSON.stringify writes it: own enumerable keys in order, undefined values left out. */
function jsonFields(ext: Record<string, string>, plain: ReadonlySet<string> | undefined): string {
  if (typeof ext !== 'object' || ext === null || typeof (ext as { toJSON?: unknown }).toJSON === 'function') {
    return jsonValue(ext);
  }
  let out = '{';
  for (const k in ext) {
    if (!Object.hasOwn(ext, k)) continue;
    const v = ext[k] as unknown;
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    if (out.length > 1) out += ',';
    out += `${jsonString(k)}:${plain !== undefined && typeof v === 'string' && plain.has(k) ? `"${v}"` : jsonValue(v)}`;
  }
  return `${out}}`;
}

/**
 * Decodes the content of one frame (everything after the 4-byte length).
 * The body is a view into `frame`, not a copy. Throws RemotingProtocolError on any malformed input.
 */
export function decodeFrame(frame: Buffer): RemotingCommand {
  const length = frame.length;
  if (length < 4) throw new RemotingProtocolError(`frame of ${length} bytes is shorter than 4`);
  // Byte loads, not frame.readUInt32BE: a method of a typed array is a generic property load in optimized code here.
  const type = frame[0]!;
  const headerBytes = (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!;
  if (headerBytes > headerBytesMax) {
    throw new RemotingProtocolError(`header length ${headerBytes} exceeds headerBytesMax ${headerBytesMax}`);
  }
  if (headerBytes > length - 4) {
    throw new RemotingProtocolError(`header length ${headerBytes} exceeds the frame's ${length - 4} bytes`);
  }
  const headerEnd = 4 + headerBytes;
  const body = length > headerEnd ? bufferSubarray.call(frame, headerEnd) : undefined;
  let h: Omit<RemotingCommand, 'serializeType' | 'body'>;
  if (type === SerializeType.json) h = readJsonHeader(frame.subarray(4, headerEnd));
  else if (type === SerializeType.rocketmq) h = readBinaryHeader(frame, 4, headerEnd);
  else throw new RemotingProtocolError(`unknown serialize type ${type}`);
  // Always the same keys in the same order: one object shape for every decoded command.
  return {
    code: h.code,
    language: h.language,
    version: h.version,
    opaque: h.opaque,
    flag: h.flag,
    remark: h.remark,
    extFields: h.extFields,
    serializeType: type,
    body,
  };
}

function readJsonHeader(header: Buffer): Omit<RemotingCommand, 'serializeType' | 'body'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(header.toString('utf8'));
  } catch (err) {
    throw new RemotingProtocolError(`JSON header does not parse: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RemotingProtocolError('JSON header is not an object');
  }
  const h = parsed as Record<string, unknown>;
  const code = intField(h, 'code', undefined);
  const remark = h['remark'];
  const language = h['language'];
  return {
    code,
    language: typeof language === 'string' ? language : 'JAVA',
    version: intField(h, 'version', 0),
    opaque: intField(h, 'opaque', 0),
    flag: intField(h, 'flag', 0),
    remark: remark === undefined || remark === null ? undefined : String(remark),
    extFields: readExtFields(h['extFields']),
  };
}

function intField(h: Record<string, unknown>, name: string, absent: number | undefined): number {
  const v = h[name];
  if ((v === undefined || v === null) && absent !== undefined) return absent;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    const shown = typeof v === 'object' ? (Array.isArray(v) ? 'an array' : 'an object') : JSON.stringify(v);
    throw new RemotingProtocolError(`JSON header field '${name}' is not an integer: ${shown}`);
  }
  return v;
}

/** Clients send numbers and booleans too (ali-ons): every value becomes a string; nulls are dropped. */
function readExtFields(raw: unknown): Record<string, string> | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const fields = raw as Record<string, unknown>;
  // JSON.parse's object, when every value is a string (the usual case), is the answer as it is: a plain object
  // whose keys JSON.parse defined (a `__proto__` key is an own field, not the prototype). No copy per request.
  let allStrings = true;
  for (const k in fields) {
    if (typeof fields[k] !== 'string') {
      allStrings = false;
      break;
    }
  }
  if (allStrings) return fields as Record<string, string>;
  const out: Record<string, string> = {};
  // for-in over own keys, not Object.entries: entries allocates a [key, value] array per field (a dozen per send
  // header), which was ~40 % of a send header decode's garbage, i.e. scavenges under a send flood.
  for (const k in fields) {
    if (!Object.hasOwn(fields, k)) continue;
    const v = fields[k];
    if (v === null || v === undefined) continue;
    setField(out, k, typeof v === 'string' ? v : typeof v === 'object' ? nestedText(k, v) : String(v));
  }
  return out;
}

/** A nested extFields value as JSON text. JSON.stringify recurses: nesting JSON.parse took may overflow it. */
function nestedText(key: string, v: object): string {
  try {
    return JSON.stringify(v);
  } catch (err) {
    throw new RemotingProtocolError(`JSON header extFields value '${key}' nests too deep`, { cause: err });
  }
}
