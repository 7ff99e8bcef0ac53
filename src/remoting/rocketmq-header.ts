/**
 * ROCKETMQ (serialize type 1) binary header, layout per RocketMQ's RocketMQSerializable, big-endian:
 *   code int16 | language int8 | version int16 | opaque int32 | flag int32
 *   | remark: int32 length + utf8 (0 = none)
 *   | extFields: int32 total length, then per entry int16 key length + key, int32 value length + value
 */
import type { RemotingCommand } from './command.js';
import { languageCodes } from './command.js';
import { RemotingProtocolError } from './errors.js';

const fixedBytes = 2 + 1 + 2 + 4 + 4;
const languageOther = 7;
const keyBytesMax = 0x7fff;

const languageByName: ReadonlyMap<string, number> = new Map(languageCodes.map((name, i) => [name, i]));

/** Header fields already measured, so the frame encoder can allocate once. */
export interface BinaryHeaderPlan {
  bytes: number;
  remark: Buffer | undefined;
  entries: Buffer[];
}

export function planBinaryHeader(cmd: RemotingCommand): BinaryHeaderPlan {
  const remark = cmd.remark ? Buffer.from(cmd.remark, 'utf8') : undefined;
  const entries: Buffer[] = [];
  let bytes = fixedBytes + 4 + (remark?.length ?? 0) + 4;
  if (cmd.extFields !== undefined) {
    for (const [k, v] of Object.entries(cmd.extFields)) {
      if (v === undefined || v === null) continue;
      const key = Buffer.from(k, 'utf8');
      const value = Buffer.from(String(v), 'utf8');
      if (key.length > keyBytesMax) throw new RemotingProtocolError(`extFields key longer than ${keyBytesMax} bytes`);
      entries.push(key, value);
      bytes += 2 + key.length + 4 + value.length;
    }
  }
  return { bytes, remark, entries };
}

/** Writes the planned header at `offset`; returns the offset after it. */
export function writeBinaryHeader(cmd: RemotingCommand, plan: BinaryHeaderPlan, out: Buffer, offset: number): number {
  let at = offset;
  at = out.writeUInt16BE(cmd.code & 0xffff, at);
  at = out.writeUInt8(languageByName.get(cmd.language) ?? languageOther, at);
  at = out.writeUInt16BE(cmd.version & 0xffff, at);
  at = out.writeInt32BE(cmd.opaque | 0, at);
  at = out.writeInt32BE(cmd.flag | 0, at);
  if (plan.remark === undefined) {
    at = out.writeInt32BE(0, at);
  } else {
    at = out.writeInt32BE(plan.remark.length, at);
    at += plan.remark.copy(out, at);
  }
  const mapLengthAt = at;
  at += 4;
  for (let i = 0; i < plan.entries.length; i += 2) {
    const key = plan.entries[i]!;
    const value = plan.entries[i + 1]!;
    at = out.writeUInt16BE(key.length, at);
    at += key.copy(out, at);
    at = out.writeInt32BE(value.length, at);
    at += value.copy(out, at);
  }
  out.writeInt32BE(at - mapLengthAt - 4, mapLengthAt);
  return at;
}

/** Decodes a binary header; `header` is exactly the header bytes. */
export function readBinaryHeader(header: Buffer): Omit<RemotingCommand, 'serializeType' | 'body'> {
  const need = (at: number, n: number, what: string) => {
    if (at + n > header.length) {
      throw new RemotingProtocolError(`ROCKETMQ header truncated reading ${what} (${header.length} bytes)`);
    }
  };
  need(0, fixedBytes + 4, 'fixed fields');
  const code = header.readInt16BE(0);
  const language = languageCodes[header.readUInt8(2)] ?? 'OTHER';
  const version = header.readInt16BE(3);
  const opaque = header.readInt32BE(5);
  const flag = header.readInt32BE(9);
  let at = fixedBytes;
  const remarkBytes = header.readInt32BE(at);
  at += 4;
  if (remarkBytes < 0) throw new RemotingProtocolError(`ROCKETMQ header remark length ${remarkBytes} is negative`);
  need(at, remarkBytes, 'remark');
  const remark = remarkBytes === 0 ? undefined : header.toString('utf8', at, at + remarkBytes);
  at += remarkBytes;
  need(at, 4, 'extFields length');
  const mapBytes = header.readInt32BE(at);
  at += 4;
  if (mapBytes < 0) throw new RemotingProtocolError(`ROCKETMQ header extFields length ${mapBytes} is negative`);
  need(at, mapBytes, 'extFields');
  if (mapBytes === 0) return { code, language, version, opaque, flag, remark };
  const end = at + mapBytes;
  const extFields: Record<string, string> = {};
  while (at < end) {
    if (at + 2 > end) throw new RemotingProtocolError('ROCKETMQ header extFields entry truncated at key length');
    const keyBytes = header.readInt16BE(at);
    at += 2;
    if (keyBytes < 0 || at + keyBytes + 4 > end) {
      throw new RemotingProtocolError(`ROCKETMQ header extFields key length ${keyBytes} overruns the map`);
    }
    const key = header.toString('utf8', at, at + keyBytes);
    at += keyBytes;
    const valueBytes = header.readInt32BE(at);
    at += 4;
    if (valueBytes < 0 || at + valueBytes > end) {
      throw new RemotingProtocolError(`ROCKETMQ header extFields value length ${valueBytes} overruns the map`);
    }
    setField(extFields, key, header.toString('utf8', at, at + valueBytes));
    at += valueBytes;
  }
  return { code, language, version, opaque, flag, remark, extFields };
}

/** Assigns without letting a `__proto__` key replace the object's prototype. */
export function setField(fields: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(fields, key, { value, enumerable: true, writable: true });
  else fields[key] = value;
}
