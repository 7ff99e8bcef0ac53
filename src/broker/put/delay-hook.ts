/**
 * Delay levels at put (RocketMQ's CommitLog / HookUtils.handleScheduleMessage): a message that is not a half
 * message and carries DELAY > 0 waits in SCHEDULE_TOPIC_XXXX, queue level − 1 (a level above the last is the
 * last), with its topic and queue kept in REAL_TOPIC / REAL_QID and its ConsumeQueue tagsCode set to the time it
 * is due (ms). The delay service (schedule/delay-service.ts) puts it back as the real message then. DELAY wins
 * over timer properties, which are removed (RocketMQ 5). A dead-lettered message is not delayed (level 0).
 */
import { SysFlag, transactionTypeOf } from '../../common/message.js';
import { decodeProperties, encodeProperties, Prop } from '../../common/properties.js';
import { dlqTopicPrefix, SystemTopic } from '../../common/topics.js';
import { ResponseCode } from '../../remoting/codes.js';
import type { DelayLevels } from '../../store/delay-levels.js';
import { type PutHook, type PutMessage, PutRefusal } from './types.js';

/** Java's Integer.parseInt accepts an optional sign and digits; anything else is refused. */
const levelPattern = /^[+-]?\d{1,10}$/;
const int32Max = 2_147_483_647;

const timerProps = [Prop.timerDeliverMs, Prop.timerDelaySec, Prop.timerDelayMs, Prop.startDeliverTime] as const;

export interface DelayHookDeps {
  readonly levels: DelayLevels;
  /** The broker's clock (ms); the due time is this plus the level's delay. */
  readonly nowMs?: () => number;
}

/** A DELAY value, or a refusal naming it: the level 0 (or less) means "not delayed", as in RocketMQ. */
export function delayLevelOf(text: string): number | PutRefusal {
  const n = levelPattern.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n > int32Max || n < -int32Max - 1) {
    return new PutRefusal(ResponseCode.MESSAGE_ILLEGAL, `property DELAY "${text}" is not a delay level (an integer)`);
  }
  return n;
}

export function delayHook(deps: DelayHookDeps): PutHook {
  const nowMs = deps.nowMs ?? Date.now;
  return {
    name: 'delay',
    leavesPlainAlone: true,
    beforePut(msg) {
      if (msg.scheduled !== true || msg.transactionPrepared === true) return undefined;
      const tran = transactionTypeOf(msg.sysFlag);
      if (tran !== SysFlag.transactionNotType && tran !== SysFlag.transactionCommitType) return undefined;
      return rewriteDelayed(msg, deps.levels, nowMs);
    },
  };
}

/** The rare path: properties are decoded and encoded again only for messages that carry a schedule property. */
function rewriteDelayed(msg: PutMessage, levels: DelayLevels, nowMs: () => number): PutRefusal | undefined {
  const raw = msg.properties;
  const props = decodeProperties(typeof raw === 'string' ? raw : raw.toString('utf8'));
  const text = props.get(Prop.delayLevel);
  if (text === undefined) return undefined; // a timer property only: the timer hook's
  const level = delayLevelOf(text);
  if (level instanceof PutRefusal) return level;
  if (level <= 0) return undefined;
  if (msg.topic.startsWith(dlqTopicPrefix)) {
    // A retry past its budget goes to the DLQ at once (RocketMQ: level 0 there).
    props.delete(Prop.delayLevel);
    msg.properties = encodeProperties(props);
    return undefined;
  }
  const clamped = levels.clamp(level);
  for (const p of timerProps) props.delete(p);
  props.set(Prop.delayLevel, String(clamped));
  props.set(Prop.realTopic, msg.topic);
  props.set(Prop.realQueueId, String(msg.queueId));
  msg.properties = encodeProperties(props);
  msg.topic = SystemTopic.schedule;
  msg.queueId = clamped - 1;
  msg.tagsCode = BigInt(nowMs() + levels.delayMs(clamped));
  // Handled: the timer hook after this one leaves it alone.
  msg.scheduled = false;
  return undefined;
}
