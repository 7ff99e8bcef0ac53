/**
 * Topic attributes (RocketMQ 5's TopicAttributes): a string map kept in the topic config (`attributes` in
 * topics.json) and changed by UPDATE_AND_CREATE_TOPIC's `attributes` field in RocketMQ's form
 * `+key=value,+key2=value2` (set) / `-key` (remove). Served: `message.type`, and `dedup.window.ms` (tsrocket,
 * beyond RocketMQ: producer de-duplication of the topic over that window).
 */

import { TopicMessageType } from './topics.js';

export { TopicMessageType };

/** The topic config attribute naming the message type a topic accepts. */
export const messageTypeAttribute = 'message.type';

const messageTypes: ReadonlySet<string> = new Set(Object.values(TopicMessageType));

export function isTopicMessageType(s: string): s is TopicMessageType {
  return messageTypes.has(s);
}

/** The type a topic's attributes restrict it to; undefined when it accepts every type. */
export function restrictedMessageTypeOf(
  attributes: Readonly<Record<string, string>> | undefined,
): TopicMessageType | undefined {
  const t = attributes?.[messageTypeAttribute];
  if (t === undefined || t === TopicMessageType.UNSPECIFIED || t === TopicMessageType.MIXED) return undefined;
  return isTopicMessageType(t) ? t : undefined;
}

/**
 * The topic config attribute turning on producer de-duplication (tsrocket): a resend whose UNIQ_KEY the broker
 * stored within this many ms is answered with the original result. Absent: no de-duplication.
 */
export const dedupWindowAttribute = 'dedup.window.ms';
export const dedupWindowMsDefault = 600_000;
export const dedupWindowMsMin = 1_000;
export const dedupWindowMsMax = 86_400_000;

/** The de-duplication window of a topic's attributes; undefined when the topic is not de-duplicated. */
export function dedupWindowMsOf(attributes: Readonly<Record<string, string>> | undefined): number | undefined {
  const v = attributes?.[dedupWindowAttribute];
  if (v === undefined || checkDedupWindow(v) !== undefined) return undefined;
  return Number(v);
}

function checkDedupWindow(v: string): string | undefined {
  const n = Number(v);
  return /^[0-9]+$/.test(v) && n >= dedupWindowMsMin && n <= dedupWindowMsMax
    ? undefined
    : `${dedupWindowAttribute} '${v}' is not a whole number of ms in ${dedupWindowMsMin}..${dedupWindowMsMax}`;
}

/** Attribute keys this broker knows, with the check of their value (an error message or undefined). */
const knownAttributes: Readonly<Record<string, (value: string) => string | undefined>> = {
  [messageTypeAttribute]: (v) =>
    isTopicMessageType(v) ? undefined : `${messageTypeAttribute} '${v}' is not one of ${[...messageTypes].join(', ')}`,
  [dedupWindowAttribute]: checkDedupWindow,
};

/** One change of an attributes string: a value to set, or undefined to remove the key. */
export type AttributeChanges = Map<string, string | undefined>;

/**
 * Parses `+k=v,+k2=v2,-k3` (RocketMQ's AttributeParser). Returns the changes, or an error message for a
 * malformed entry, a repeated or unknown key, or a bad value.
 */
export function parseAttributeChanges(s: string): AttributeChanges | string {
  const out: AttributeChanges = new Map();
  if (s.trim() === '') return out;
  for (const raw of s.split(',')) {
    const entry = raw.trim();
    const op = entry[0];
    let key: string;
    let value: string | undefined;
    if (op === '+') {
      const eq = entry.indexOf('=');
      if (eq < 2 || eq === entry.length - 1) return `attribute '${entry}' is not in the form +key=value`;
      key = entry.slice(1, eq);
      value = entry.slice(eq + 1);
    } else if (op === '-') {
      key = entry.slice(1);
      if (key === '' || key.includes('=')) return `attribute '${entry}' is not in the form -key`;
    } else {
      return `attribute '${entry}' must start with + (set) or - (remove)`;
    }
    if (out.has(key)) return `attribute '${key}' is given twice`;
    const check = knownAttributes[key];
    if (check === undefined)
      return `attribute '${key}' is not supported (known: ${Object.keys(knownAttributes).join(', ')})`;
    if (value !== undefined) {
      const bad = check(value);
      if (bad !== undefined) return bad;
    }
    out.set(key, value);
  }
  return out;
}

/** Applies parsed changes to a topic's current attributes; undefined when none are left. */
export function applyAttributeChanges(
  current: Readonly<Record<string, string>> | undefined,
  changes: AttributeChanges,
): Record<string, string> | undefined {
  const next: Record<string, string> = { ...current };
  for (const [k, v] of changes) {
    if (v === undefined) delete next[k];
    else next[k] = v;
  }
  return Object.keys(next).length === 0 ? undefined : next;
}

/** Attributes read from a file: a map of strings, or undefined (anything else is dropped, as if unset). */
export function attributesOfJson(v: unknown): Record<string, string> | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** `+k=v,…` for a map of attributes to set. */
export function encodeAttributeChanges(set: Readonly<Record<string, string>>): string {
  return Object.entries(set)
    .map(([k, v]) => `+${k}=${v}`)
    .join(',');
}
