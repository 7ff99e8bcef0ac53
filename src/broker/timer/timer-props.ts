/**
 * The deliver time a timer message asks for (RocketMQ 5's HookUtils rules): TIMER_DELAY_SEC wins over
 * TIMER_DELAY_MS, which wins over TIMER_DELIVER_MS (absolute); Aliyun's __STARTDELIVERTIME (absolute ms, what
 * ali-ons sends) counts when none of those is present. A value must be a decimal integer; a deliver time more
 * than timerMaxDelaySec ahead is illegal; one at or before now means "deliver now" (stored as a normal message).
 */
import { Prop } from '../../common/properties.js';

/** Every property that asks for a deliver time (removed when a delay level wins, and on delivery). */
export const timerRequestProps: readonly string[] = [
  Prop.timerDelaySec,
  Prop.timerDelayMs,
  Prop.timerDeliverMs,
  Prop.startDeliverTime,
];

export const TimerAsk = { none: 'none', now: 'now', later: 'later', illegal: 'illegal' } as const;

export type TimerDecision =
  | { readonly kind: typeof TimerAsk.none }
  | { readonly kind: typeof TimerAsk.now }
  | { readonly kind: typeof TimerAsk.later; readonly deliverMs: number }
  | { readonly kind: typeof TimerAsk.illegal; readonly remark: string };

const none: TimerDecision = { kind: TimerAsk.none };
const now: TimerDecision = { kind: TimerAsk.now };
const integerText = /^[+-]?\d{1,16}$/;

/** What the timer properties of `props` ask for at `nowMs`. */
export function timerDecisionOf(props: ReadonlyMap<string, string>, nowMs: number, maxDelaySec: number): TimerDecision {
  let deliverMs: number;
  const sec = props.get(Prop.timerDelaySec);
  const ms = props.get(Prop.timerDelayMs);
  const at = props.get(Prop.timerDeliverMs);
  const aliyunAt = props.get(Prop.startDeliverTime);
  if (sec !== undefined) {
    const v = integerOf(sec);
    if (v === undefined) return illegal(Prop.timerDelaySec, sec);
    deliverMs = nowMs + v * 1000;
  } else if (ms !== undefined) {
    const v = integerOf(ms);
    if (v === undefined) return illegal(Prop.timerDelayMs, ms);
    deliverMs = nowMs + v;
  } else if (at !== undefined) {
    const v = integerOf(at);
    if (v === undefined) return illegal(Prop.timerDeliverMs, at);
    deliverMs = v;
  } else if (aliyunAt !== undefined) {
    const v = integerOf(aliyunAt);
    if (v === undefined) return illegal(Prop.startDeliverTime, aliyunAt);
    deliverMs = v;
  } else {
    return none;
  }
  if (deliverMs <= nowMs) return now;
  if (deliverMs - nowMs > maxDelaySec * 1000) {
    return {
      kind: TimerAsk.illegal,
      remark:
        `timer message illegal, deliver time ${new Date(deliverMs).toISOString()} is ` +
        `${Math.ceil((deliverMs - nowMs) / 1000)} s ahead, more than timerMaxDelaySec=${maxDelaySec}`,
    };
  }
  return { kind: TimerAsk.later, deliverMs };
}

function integerOf(text: string): number | undefined {
  if (!integerText.test(text)) return undefined;
  const v = Number(text);
  return Number.isSafeInteger(v) ? v : undefined;
}

function illegal(name: string, value: string): TimerDecision {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return { kind: TimerAsk.illegal, remark: `timer message illegal, ${name} is not an integer: '${shown}'` };
}
