/**
 * Tolerant JSON reader for bodies written by RocketMQ's Java side (fastjson): map keys may be bare numbers
 * (`{0:"addr"}`) or whole objects (`{{"brokerName":"b","queueId":0,"topic":"t"}:{...}}`). Object keys are
 * kept as their compact JSON text, so callers can `JSON.parse` them back. Strict JSON reads the same.
 */
import { TsRocketError } from '../../common/errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const depthMax = 64;

export function parseLenientJson(text: string): JsonValue {
  const p = new Parser(text);
  p.skipSpace();
  const v = p.value(0);
  p.skipSpace();
  if (p.pos !== text.length) p.fail('trailing characters');
  return v;
}

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(why: string): never {
    throw new TsRocketError(`bad JSON body at ${this.pos}: ${why}`);
  }

  skipSpace(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos] as string)) this.pos++;
  }

  value(depth: number): JsonValue {
    if (depth > depthMax) this.fail('nested too deep');
    const c = this.s[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail(`unexpected ${c === undefined ? 'end' : JSON.stringify(c)}`);
  }

  private object(depth: number): JsonValue {
    const out: { [key: string]: JsonValue } = {};
    this.pos++;
    this.skipSpace();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      const k = this.value(depth + 1);
      const key = typeof k === 'string' ? k : typeof k === 'number' ? String(k) : JSON.stringify(k);
      this.skipSpace();
      if (this.s[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      this.skipSpace();
      out[key] = this.value(depth + 1);
      this.skipSpace();
      const c = this.s[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail("expected ',' or '}'");
    }
  }

  private array(depth: number): JsonValue {
    const out: JsonValue[] = [];
    this.pos++;
    this.skipSpace();
    if (this.s[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      out.push(this.value(depth + 1));
      this.skipSpace();
      const c = this.s[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail("expected ',' or ']'");
    }
  }

  private string(): string {
    const start = this.pos;
    this.pos++;
    while (this.pos < this.s.length) {
      const c = this.s[this.pos];
      if (c === '\\') this.pos += 2;
      else if (c === '"') {
        this.pos++;
        return JSON.parse(this.s.slice(start, this.pos)) as string;
      } else this.pos++;
    }
    return this.fail('unterminated string');
  }

  private number(): number {
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.pos, this.pos + 64));
    if (m === null) return this.fail('bad number');
    this.pos += m[0].length;
    return Number(m[0]);
  }
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

export function asBool(v: JsonValue | undefined): boolean {
  return v === true || v === 'true';
}

/**
 * Body values that are Java longs can exceed 2^53 only in theory for offsets; we read numbers as JS numbers,
 * which is exact for every offset a broker reaches in practice.
 */
export function parseBody(body: Buffer | undefined): JsonValue {
  if (body === undefined || body.length === 0) return {};
  return parseLenientJson(body.toString('utf8'));
}
