/**
 * The timer service's durable progress (`config/timerCheckpoint.json`, written through ConfigFile: durable +
 * .bak). On restart the pending messages are reloaded from rmq_sys_wheel_timer's ConsumeQueue from
 * `deliveredOffset`; an entry below `seenOffset` whose deliver time is at or before `firedUpToMs` was delivered
 * already and is skipped. Entries at or past `seenOffset` are always reloaded (a crash may deliver those twice,
 * never lose them).
 */
export interface TimerCheckpoint {
  /** Every timer queue entry below this offset has been delivered. */
  deliveredOffset: number;
  /** Every entry below `seenOffset` that is due at or before this time (ms) has been delivered. */
  firedUpToMs: number;
  /** The entries below this offset were all known to the service when the checkpoint was taken. */
  seenOffset: number;
}

export const emptyTimerCheckpoint: TimerCheckpoint = { deliveredOffset: 0, firedUpToMs: 0, seenOffset: 0 };

/** The checkpoint in a loaded file; a missing file or field reads as "nothing delivered" (never skips a message). */
export function timerCheckpointOf(value: unknown): TimerCheckpoint {
  if (value === null || typeof value !== 'object') return emptyTimerCheckpoint;
  const v = value as Record<string, unknown>;
  const num = (x: unknown): number => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : 0);
  const cp = {
    deliveredOffset: num(v.deliveredOffset),
    firedUpToMs: num(v.firedUpToMs),
    seenOffset: num(v.seenOffset),
  };
  // A seenOffset below deliveredOffset would make the skip rule meaningless: keep them ordered.
  if (cp.seenOffset < cp.deliveredOffset) cp.seenOffset = cp.deliveredOffset;
  return cp;
}
