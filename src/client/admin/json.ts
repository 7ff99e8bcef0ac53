/**
 * Typed accessors over admin response bodies, read with the shared tolerant JSON reader (fastjson's number and
 * object map keys; object keys come back as their compact JSON text).
 */
import { parseTolerantJson } from '../../common/json.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function parseLenientJson(text: string): JsonValue {
  return parseTolerantJson(text) as JsonValue;
}

/** Typed accessors over a parsed body; missing fields get defaults so a sparse body still reads. */
export function asObject(v: JsonValue | undefined): { [key: string]: JsonValue } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

export function asArray(v: JsonValue | undefined): JsonValue[] {
  return Array.isArray(v) ? v : [];
}

export function asString(v: JsonValue | undefined, fallback = ''): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : fallback;
}

export function asNumber(v: JsonValue | undefined, fallback = 0): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return fallback;
}

/**
 * Body values that are Java longs can exceed 2^53 only in theory for offsets; we read numbers as JS numbers,
 * which is exact for every offset a broker reaches in practice.
 */
export function parseBody(body: Buffer | undefined): JsonValue {
  if (body === undefined || body.length === 0) return {};
  return parseLenientJson(body.toString('utf8'));
}
