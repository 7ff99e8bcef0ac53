/**
 * A small seeded mutation fuzzer for the decoders. Each target starts from its corpus (test/fuzz/corpus/<name>/,
 * one input per `.hex` file: valid seeds and every crasher found), runs the seeds as they are, then stacked
 * mutations of them until its time budget is spent. The property: the target returns, or throws one of its
 * allowed (typed) errors — never another error, never a hang, never an allocation sized by an unchecked length.
 * A failure names the seed and iteration and writes the input to a file, so it replays exactly:
 *   TSROCKET_FUZZ_SEED=<seed> node --test dist/test/fuzz/<file>.test.js
 * TSROCKET_FUZZ_MS sets the budget per target (default 1500 ms; CI keeps the default).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const corpusRoot = fileURLToPath(new URL('../../../test/fuzz/corpus/', import.meta.url));

const budgetMsDefault = 1500;
/** One input taking longer than this counts as a hang. */
const inputMsMax = 2000;
/** Mutated inputs are cut to this size (the decoders' own limits sit below it or are tested by length fields). */
const inputBytesMax = 256 * 1024;

// biome-ignore lint/suspicious/noExplicitAny: error classes with any constructor signature
export type ErrorClass = abstract new (...args: any[]) => Error;

export interface FuzzTarget {
  /** Corpus folder under test/fuzz/corpus/. */
  name: string;
  /** Runs one input; throws only the allowed errors. */
  run(input: Buffer, rng: Rng): void;
  allowed: readonly ErrorClass[];
  /** Byte strings worth splicing in (separators, keywords); numbers are always tried. */
  tokens?: readonly string[];
  /** Seeds given inline instead of the corpus folder (the harness's own tests). */
  seeds?: readonly Buffer[];
}

export interface FuzzReport {
  seed: number;
  inputs: number;
  /** Inputs that ended in an allowed error. */
  refused: number;
}

/** xorshift32: small, fast and replayable from one 32-bit seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** 0 ≤ n < bound. */
  below(bound: number): number {
    return bound <= 0 ? 0 : this.next() % bound;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

export function fuzzSeed(): number {
  const fromEnv = process.env['TSROCKET_FUZZ_SEED'];
  return fromEnv !== undefined ? Number(fromEnv) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

export function fuzzBudgetMs(): number {
  const fromEnv = Number(process.env['TSROCKET_FUZZ_MS']);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : budgetMsDefault;
}

/** The corpus of a target, in file-name order. */
export function loadCorpus(name: string): Buffer[] {
  const dir = path.join(corpusRoot, name);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.hex'))
    .sort();
  return files.map((f) => Buffer.from(readFileSync(path.join(dir, f), 'utf8').replace(/\s+/g, ''), 'hex'));
}

/** Writes one corpus entry as hex, 64 bytes a line. */
export function writeCorpusEntry(name: string, file: string, input: Buffer): void {
  const dir = path.join(corpusRoot, name);
  mkdirSync(dir, { recursive: true });
  const hex = input.toString('hex');
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += 128) lines.push(hex.slice(i, i + 128));
  writeFileSync(path.join(dir, file), `${lines.join('\n')}\n`);
}

const interestingInts = [
  0, 1, 2, 3, 4, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0xffffff, 0x1000000, 0x1000001, 0x7fffffff,
  0x80000000, 0xfffffffe, 0xffffffff,
] as const;
const numberTokens = ['-1', '0', '2147483648', '-9223372036854775809', '9223372036854775808', '1e999', '1.5', ' '];

/** One to four stacked mutations of `input` (a copy), sometimes spliced with another corpus entry. */
export function mutate(input: Buffer, rng: Rng, corpus: readonly Buffer[], tokens: readonly string[]): Buffer {
  let out = Buffer.from(input);
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const at = rng.below(out.length + 1);
    switch (rng.below(9)) {
      case 0:
        if (out.length > 0) out[rng.below(out.length)]! ^= 1 << rng.below(8);
        break;
      case 1:
        if (out.length > 0) out[rng.below(out.length)] = rng.below(256);
        break;
      case 2: {
        const width = rng.pick([1, 2, 4] as const);
        if (out.length >= width) {
          const pos = rng.below(out.length - width + 1);
          const v = rng.pick(interestingInts);
          if (width === 4) out.writeUInt32BE(v >>> 0, pos);
          else if (width === 2) out.writeUInt16BE(v & 0xffff, pos);
          else out[pos] = v & 0xff;
        }
        break;
      }
      case 3: {
        const n = rng.below(Math.min(out.length - at, 64) + 1);
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + n)]);
        break;
      }
      case 4: {
        const from = rng.below(out.length + 1);
        const n = rng.below(Math.min(out.length - from, 256) + 1);
        out = Buffer.concat([out.subarray(0, at), out.subarray(from, from + n), out.subarray(at)]);
        break;
      }
      case 5:
        out = out.subarray(0, rng.below(out.length + 1));
        break;
      case 6: {
        const other = rng.pick(corpus);
        const from = rng.below(other.length + 1);
        out = Buffer.concat([out.subarray(0, at), other.subarray(from)]);
        break;
      }
      case 7: {
        const token = rng.pick([...tokens, ...numberTokens]);
        const times = rng.below(8) === 0 ? 1 + rng.below(4000) : 1;
        out = Buffer.concat([out.subarray(0, at), Buffer.from(token.repeat(times)), out.subarray(at)]);
        break;
      }
      default: {
        const n = 1 + rng.below(16);
        const bytes = Buffer.allocUnsafe(n);
        for (let i = 0; i < n; i++) bytes[i] = rng.below(256);
        out = Buffer.concat([out.subarray(0, at), bytes, out.subarray(at)]);
      }
    }
  }
  return out.length > inputBytesMax ? out.subarray(0, inputBytesMax) : out;
}

type Alloc = (size: number, ...rest: never[]) => Buffer;

/** Runs `fn` with Buffer.alloc* refusing sizes above `bytesMax` (an allocation sized by an unchecked length). */
function withAllocationLimit(bytesMax: number, fn: () => void): void {
  const saved = { alloc: Buffer.alloc, allocUnsafe: Buffer.allocUnsafe, allocUnsafeSlow: Buffer.allocUnsafeSlow };
  const guard = (orig: Alloc): Alloc =>
    function (this: unknown, size: number, ...rest: never[]): Buffer {
      if (size > bytesMax) throw new AllocationError(size, bytesMax);
      return orig.call(this, size, ...rest);
    };
  Buffer.alloc = guard(saved.alloc as Alloc) as typeof Buffer.alloc;
  Buffer.allocUnsafe = guard(saved.allocUnsafe as Alloc) as typeof Buffer.allocUnsafe;
  Buffer.allocUnsafeSlow = guard(saved.allocUnsafeSlow as Alloc) as typeof Buffer.allocUnsafeSlow;
  try {
    fn();
  } finally {
    Buffer.alloc = saved.alloc;
    Buffer.allocUnsafe = saved.allocUnsafe;
    Buffer.allocUnsafeSlow = saved.allocUnsafeSlow;
  }
}

class AllocationError extends Error {
  constructor(size: number, bytesMax: number) {
    super(`allocation of ${size} bytes from an input allowing at most ${bytesMax}`);
  }
}

/** Thrown by fuzz() with everything needed to replay the failure. */
export class FuzzFailure extends Error {
  constructor(
    message: string,
    /** The failing input's file in the temp dir (a test that expects the failure removes it). */
    readonly file: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Runs the target's corpus, then mutations until the budget is spent. Throws FuzzFailure on the first input that
 * breaks the property, after writing it to a file in the temp dir (add it to the corpus once fixed).
 */
export function fuzz(target: FuzzTarget, seed = fuzzSeed(), budgetMs = fuzzBudgetMs()): FuzzReport {
  const corpus = target.seeds ?? loadCorpus(target.name);
  if (corpus.length === 0) throw new Error(`corpus ${target.name} is empty`);
  const rng = new Rng(seed);
  const tokens = target.tokens ?? [];
  const report: FuzzReport = { seed, inputs: 0, refused: 0 };
  const deadline = performance.now() + budgetMs;
  for (let i = 0; i < corpus.length || performance.now() < deadline; i++) {
    const input = i < corpus.length ? corpus[i]! : mutate(rng.pick(corpus), rng, corpus, tokens);
    // The target's own rng is derived from the iteration, so an input replays alone too.
    const runRng = new Rng(seed ^ Math.imul(i + 1, 0x85ebca6b));
    const startMs = performance.now();
    let failure: unknown;
    try {
      withAllocationLimit(2 * input.length + 4096, () => target.run(input, runRng));
    } catch (err) {
      if (target.allowed.some((cls) => err instanceof cls)) report.refused++;
      else failure = err;
    }
    const elapsedMs = performance.now() - startMs;
    if (failure === undefined && elapsedMs > inputMsMax) failure = new Error(`input took ${elapsedMs.toFixed(0)} ms`);
    if (failure !== undefined) throw failureOf(target.name, seed, i, input, failure);
    report.inputs++;
  }
  return report;
}

/** Prints the seed and counts, so any run (not only a failing one) can be replayed. */
export function reported(t: { diagnostic(msg: string): void }, r: FuzzReport): FuzzReport {
  t.diagnostic(`seed ${r.seed}: ${r.inputs} inputs, ${r.refused} refused`);
  return r;
}

function failureOf(name: string, seed: number, iteration: number, input: Buffer, err: unknown): FuzzFailure {
  const file = path.join(os.tmpdir(), `tsrocket-fuzz-${name}-${seed}-${iteration}.hex`);
  writeFileSync(file, input.toString('hex'));
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new FuzzFailure(
    `fuzz target '${name}' failed at iteration ${iteration} (TSROCKET_FUZZ_SEED=${seed}): ${what.slice(0, 300)}\n` +
      `input (${input.length} bytes) written to ${file}`,
    file,
    { cause: err },
  );
}
