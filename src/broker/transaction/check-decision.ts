/**
 * What the check pass does with one half message (RocketMQ's TransactionalMessageServiceImpl.check), as a pure
 * function of its facts, so every rule is tested alone.
 */

export const HalfDecision = {
  /** An op record names it (or its first copy): committed or rolled back already. */
  done: 'done',
  /** Checked transactionCheckMax times: rolled back and logged. */
  discard: 'discard',
  /** Too young, or stored during this pass: this pass stops here (later ones are younger). */
  stop: 'stop',
  /** Still inside its own CHECK_IMMUNITY_TIME_IN_SECONDS: put back at the end so it does not hold up the rest. */
  requeue: 'requeue',
  /** Ask a producer of its group (after putting a copy back with one more check counted). */
  check: 'check',
} as const;
export type HalfDecision = (typeof HalfDecision)[keyof typeof HalfDecision];

export interface HalfFacts {
  /** An op record names this copy's offset or its first copy's. */
  resolved: boolean;
  /** TRANSACTION_CHECK_TIMES (0 when absent). */
  checkTimes: number;
  storeTimestampMs: number;
  bornTimestampMs: number;
  /** CHECK_IMMUNITY_TIME_IN_SECONDS × 1000 when the message carries it. */
  immunityMs: number | undefined;
}

export interface CheckRules {
  nowMs: number;
  /** When this pass began: copies it puts back are left for the next pass. */
  passStartMs: number;
  transactionTimeOut: number;
  transactionCheckMax: number;
}

export function decideHalf(f: HalfFacts, r: CheckRules): HalfDecision {
  if (f.resolved) return HalfDecision.done;
  if (f.checkTimes >= r.transactionCheckMax) return HalfDecision.discard;
  if (f.storeTimestampMs >= r.passStartMs) return HalfDecision.stop;
  const ageMs = r.nowMs - f.bornTimestampMs;
  // Born in the future (a producer clock ahead of ours): checked at once, as RocketMQ does.
  if (ageMs < 0) return HalfDecision.check;
  if (f.immunityMs !== undefined && ageMs < f.immunityMs) return HalfDecision.requeue;
  if (f.immunityMs === undefined && ageMs < r.transactionTimeOut) return HalfDecision.stop;
  return HalfDecision.check;
}

/** CHECK_IMMUNITY_TIME_IN_SECONDS as ms; undefined when absent or not a non-negative number. */
export function immunityMsOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = Number(v);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
}

/** TRANSACTION_CHECK_TIMES as a count (0 when absent or malformed). */
export function checkTimesOf(v: string | undefined): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : 0;
}
