/**
 * RegisterBrokerBody codec. Plain form: JSON
 *   {"topicConfigSerializeWrapper":{"topicConfigTable":{topic:TopicConfig},"dataVersion":{...}},"filterServerList":[]}
 * Compressed form (header `compressed=true`): zlib stream of
 *   [int32 len][DataVersion JSON] [int32 n] n × ([int32 len][TopicConfig text "name read write perm filterType attrsJson"])
 *   [int32 len][filterServerList JSON] ([int32 m] m × [int32 len][mapping JSON], 5.x only — ignored)
 * Java writes map keys unquoted at times, so JSON is read with the tolerant reader.
 */
import { inflateSync } from 'node:zlib';
import { InvalidArgumentError } from '../common/errors.js';
import { parseTolerantJson } from '../common/json.js';
import {
  type DataVersion,
  permReadWrite,
  type RegisterBrokerBody,
  type TopicConfig,
  zeroDataVersion,
} from '../common/route-data.js';

/** A compressed body may not inflate past this (a hostile 16 MiB frame could otherwise inflate to GiBs). */
export const registerBodyInflatedBytesMax = 64 * 1024 * 1024;
/** RocketMQ's TopicConfig defaults. */
const queueNumsDefault = 16;

function bad(what: string): never {
  throw new InvalidArgumentError(`bad RegisterBrokerBody: ${what}`);
}

function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function num(v: unknown, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : fallback;
}

export function toDataVersion(v: unknown): DataVersion {
  if (v === undefined || v === null) return zeroDataVersion();
  const r = asRecord(v, 'dataVersion');
  return { stateVersion: num(r['stateVersion'], 0), timestamp: num(r['timestamp'], 0), counter: num(r['counter'], 0) };
}

export function toTopicConfig(v: unknown, nameFallback?: string): TopicConfig {
  const r = asRecord(v, 'topic config');
  const topicName = typeof r['topicName'] === 'string' ? r['topicName'] : nameFallback;
  if (topicName === undefined || topicName === '') bad('topic config without topicName');
  return {
    topicName,
    readQueueNums: num(r['readQueueNums'], queueNumsDefault),
    writeQueueNums: num(r['writeQueueNums'], queueNumsDefault),
    perm: num(r['perm'], permReadWrite),
    topicSysFlag: num(r['topicSysFlag'], 0),
    order: r['order'] === true || r['order'] === 'true',
  };
}

function toStringList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) bad('filterServerList is not an array');
  return v.map(String);
}

/** Decodes a REGISTER_BROKER body; an absent body means no topics and a zero data version (as RocketMQ). */
export function decodeRegisterBrokerBody(body: Buffer | undefined, compressed: boolean): RegisterBrokerBody {
  if (body === undefined || body.length === 0) {
    return {
      topicConfigSerializeWrapper: { topicConfigTable: {}, dataVersion: zeroDataVersion() },
      filterServerList: [],
    };
  }
  return compressed ? decodeCompressed(body) : decodeJson(body);
}

function decodeJson(body: Buffer): RegisterBrokerBody {
  const root = asRecord(parseTolerantJson(body.toString('utf8')), 'body');
  const wrapper =
    root['topicConfigSerializeWrapper'] === undefined
      ? {}
      : asRecord(root['topicConfigSerializeWrapper'], 'topicConfigSerializeWrapper');
  const rawTable =
    wrapper['topicConfigTable'] === undefined ? {} : asRecord(wrapper['topicConfigTable'], 'topicConfigTable');
  const topicConfigTable: Record<string, TopicConfig> = {};
  for (const [name, raw] of Object.entries(rawTable)) {
    const config = toTopicConfig(raw, name);
    topicConfigTable[config.topicName] = config;
  }
  return {
    topicConfigSerializeWrapper: { topicConfigTable, dataVersion: toDataVersion(wrapper['dataVersion']) },
    filterServerList: toStringList(root['filterServerList']),
  };
}

function decodeCompressed(body: Buffer): RegisterBrokerBody {
  let data: Buffer;
  try {
    data = inflateSync(body, { maxOutputLength: registerBodyInflatedBytesMax });
  } catch (err) {
    throw new InvalidArgumentError('bad RegisterBrokerBody: cannot inflate the compressed body', { cause: err });
  }
  let pos = 0;
  const readChunk = (what: string): string => {
    if (pos + 4 > data.length) bad(`truncated before ${what}`);
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || pos + len > data.length) bad(`${what} length ${len} runs past the end`);
    const text = data.toString('utf8', pos, pos + len);
    pos += len;
    return text;
  };
  const dataVersion = toDataVersion(parseTolerantJson(readChunk('dataVersion')));
  if (pos + 4 > data.length) bad('truncated before the topic count');
  const count = data.readInt32BE(pos);
  pos += 4;
  const topicConfigTable: Record<string, TopicConfig> = {};
  for (let i = 0; i < count; i++) {
    const config = parseTopicConfigText(readChunk('a topic config'));
    topicConfigTable[config.topicName] = config;
  }
  const filterServerList = toStringList(parseTolerantJson(readChunk('filterServerList')));
  return { topicConfigSerializeWrapper: { topicConfigTable, dataVersion }, filterServerList };
}

/** TopicConfig's space-separated text form: name read write perm filterType [attributesJson]. */
function parseTopicConfigText(text: string): TopicConfig {
  const parts = text.split(' ');
  if (parts.length < 5) bad(`topic config text "${text.slice(0, 80)}"`);
  const int = (s: string | undefined): number => {
    const n = Number(s);
    if (!Number.isInteger(n)) bad(`topic config text "${text.slice(0, 80)}"`);
    return n;
  };
  return {
    topicName: parts[0] as string,
    readQueueNums: int(parts[1]),
    writeQueueNums: int(parts[2]),
    perm: int(parts[3]),
    topicSysFlag: 0,
    order: false,
  };
}
