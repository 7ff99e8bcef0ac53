/**
 * messageDelayLevel ("1s 5s 10s 30s 1m …"): the delay of each level of delayed and retried messages. Units are
 * RocketMQ's s, m, h, d, plus `ms` (a tsrocket extension, so tests can shorten the levels below a second).
 */

/** RocketMQ's 18 levels (MessageStoreConfig.messageDelayLevel). */
export const defaultMessageDelayLevel = '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h';

/** Levels a configuration may define: each is one queue of SCHEDULE_TOPIC_XXXX. */
export const delayLevelsMax = 1000;
/** Longest delay of a level (365 days): due times stay exact in a double. */
export const levelDelayMsMax = 365 * 86_400_000;

const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const levelPattern = /^(\d{1,9})(ms|s|m|h|d)$/;

/** The delay (ms) of each level, level 1 first, or what is wrong with the text. */
export function parseDelayLevels(text: string): number[] | string {
  const parts = text
    .trim()
    .split(/\s+/)
    .filter((p) => p !== '');
  if (parts.length === 0) return 'expected at least one level, like "1s 5s 10s"';
  if (parts.length > delayLevelsMax) return `at most ${delayLevelsMax} levels, got ${parts.length}`;
  const out: number[] = [];
  for (const [i, p] of parts.entries()) {
    const m = levelPattern.exec(p);
    if (m === null) return `level ${i + 1} "${p}": expected a number and a unit (ms, s, m, h, d), like 5s`;
    const ms = Number(m[1]) * (unitMs[m[2] as string] as number);
    if (ms <= 0) return `level ${i + 1} "${p}": a delay must be more than 0`;
    if (ms > levelDelayMsMax) return `level ${i + 1} "${p}": at most 365d`;
    out.push(ms);
  }
  return out;
}

/** What is wrong with a messageDelayLevel value, or undefined (the config key's check). */
export function delayLevelProblem(text: string): string | undefined {
  const parsed = parseDelayLevels(text);
  return typeof parsed === 'string' ? parsed : undefined;
}

/** The parsed levels: level n (1-based) waits `delayMs(n)`; a level above the last is the last (RocketMQ clamps). */
export class DelayLevels {
  readonly maxLevel: number;

  constructor(readonly delaysMs: readonly number[]) {
    if (delaysMs.length === 0) throw new RangeError('delay levels: at least one level');
    this.maxLevel = delaysMs.length;
  }

  /** The level used for a requested one: clamped to the highest; `level` must be ≥ 1. */
  clamp(level: number): number {
    return level > this.maxLevel ? this.maxLevel : level;
  }

  delayMs(level: number): number {
    return this.delaysMs[this.clamp(level) - 1] as number;
  }
}
