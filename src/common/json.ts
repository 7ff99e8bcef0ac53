/**
 * Tolerant JSON reader for bodies written by RocketMQ's Java side: fastjson writes maps with non-string keys
 * unquoted (`{0:"127.0.0.1:10911"}`) or as whole objects (`{{"brokerName":"b","queueId":0,"topic":"t"}:{…}}`),
 * which strict `JSON.parse` rejects. Everything we write stays strict JSON, except bodies whose Java reader needs
 * MessageQueue keys (ResetOffsetBody, `remoting/protocol/reset-offset.ts`).
 */
import { InvalidArgumentError } from './errors.js';

/** Nesting deeper than this is refused (keeps the recursive reader off the stack limit). */
export const jsonDepthMax = 512;

export class JsonSyntaxError extends InvalidArgumentError {}

/**
 * Parses strict JSON, or JSON whose object keys are unquoted numbers or identifiers (`{0:"a", key:1}`) or
 * objects (kept as their compact JSON text, so callers can `JSON.parse` them back).
 * Trailing commas in objects and arrays are accepted too. Throws JsonSyntaxError with the offset on bad input.
 */
export function parseTolerantJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not strict JSON: fall through to the tolerant reader (slower, only for Java-written bodies).
  }
  const reader = new TolerantReader(text);
  reader.skipSpace();
  const value = reader.readValue(0);
  reader.skipSpace();
  if (!reader.atEnd()) reader.fail('unexpected text after the value');
  return value;
}

const unquotedKeyChar = /[A-Za-z0-9_$.+-]/;

class TolerantReader {
  private pos = 0;
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(what: string): never {
    throw new JsonSyntaxError(`invalid JSON at offset ${this.pos}: ${what}`);
  }

  skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }

  readValue(depth: number): unknown {
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.readObject(depth);
      case '[':
        return this.readArray(depth);
      case '"':
        return this.readString();
      case 't':
        return this.readWord('true', true);
      case 'f':
        return this.readWord('false', false);
      case 'n':
        return this.readWord('null', null);
      default:
        if (c !== undefined && /[-0-9]/.test(c)) return this.readNumber();
        return this.fail(c === undefined ? 'unexpected end' : `unexpected character ${JSON.stringify(c)}`);
    }
  }

  private readWord<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return value;
  }

  private readNumber(): number {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (m === null) this.fail('bad number');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private readString(): string {
    const start = this.pos;
    this.pos++; // opening quote
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '\\') {
        this.pos += 2;
      } else if (c === '"') {
        this.pos++;
        // Escapes are standard JSON ones: let the built-in parser decode the literal.
        try {
          return JSON.parse(this.text.slice(start, this.pos)) as string;
        } catch {
          this.pos = start;
          this.fail('bad string literal');
        }
      } else {
        this.pos++;
      }
    }
    return this.fail('unterminated string');
  }

  private readKey(depth: number): string {
    if (this.text[this.pos] === '"') return this.readString();
    if (this.text[this.pos] === '{') return JSON.stringify(this.readObject(depth + 1));
    const start = this.pos;
    while (this.pos < this.text.length && unquotedKeyChar.test(this.text[this.pos] as string)) this.pos++;
    if (this.pos === start) this.fail('expected an object key');
    return this.text.slice(start, this.pos);
  }

  /** Checked here, not in readValue: an object key (readKey) nests objects without a value around them. */
  private enter(depth: number): void {
    if (depth > jsonDepthMax) this.fail(`nesting deeper than ${jsonDepthMax}`);
  }

  private readObject(depth: number): Record<string, unknown> {
    this.enter(depth);
    const out: Record<string, unknown> = {};
    this.pos++; // {
    this.skipSpace();
    while (this.text[this.pos] !== '}') {
      const key = this.readKey(depth);
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      this.skipSpace();
      // defineProperty so a "__proto__" key stays plain data.
      Object.defineProperty(out, key, {
        value: this.readValue(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skipSpace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        this.skipSpace();
      } else if (this.text[this.pos] !== '}') {
        this.fail('expected "," or "}"');
      }
    }
    this.pos++; // }
    return out;
  }

  private readArray(depth: number): unknown[] {
    this.enter(depth);
    const out: unknown[] = [];
    this.pos++; // [
    this.skipSpace();
    while (this.text[this.pos] !== ']') {
      out.push(this.readValue(depth + 1));
      this.skipSpace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        this.skipSpace();
      } else if (this.text[this.pos] !== ']') {
        this.fail('expected "," or "]"');
      }
    }
    this.pos++; // ]
    return out;
  }
}
