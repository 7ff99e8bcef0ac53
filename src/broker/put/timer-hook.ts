/**
 * Timer messages (RocketMQ 5's HookUtils.handleScheduleMessage, timer half): a message that asks for a deliver
 * time (timer-props.ts) is stored in rmq_sys_wheel_timer queue 0 with TIMER_OUT_MS = that time, REAL_TOPIC and
 * REAL_QID; its ConsumeQueue entry keeps the deliver time as tagsCode, which is what the timer service loads.
 * Runs last, after the delay hook: a delay level > 0 wins and the timer properties are dropped. Acts only on
 * messages the send path marked `scheduled` that are not half messages. Unlike RocketMQ, TIMER_OUT_MS is the
 * exact time asked for, not rounded down to the slot: a timer message is never delivered early.
 */
import { SysFlag, transactionTypeOf } from '../../common/message.js';
import { decodeProperties, encodeProperties, Prop } from '../../common/properties.js';
import { SystemTopic } from '../../common/topics.js';
import { ResponseCode } from '../../remoting/codes.js';
import { TimerAsk, timerDecisionOf, timerRequestProps } from '../timer/timer-props.js';
import { type PutHook, PutRefusal } from './types.js';

export interface TimerSettings {
  readonly timerWheelEnable: boolean;
  readonly timerMaxDelaySec: number;
}

export interface TimerHookDeps {
  /** Default: enabled, RocketMQ's 3-day limit. */
  readonly timer?: TimerSettings;
  /** Epoch ms; injected by tests. */
  readonly nowMs?: () => number;
}

export function timerHook(deps: TimerHookDeps): PutHook {
  const { timerWheelEnable, timerMaxDelaySec } = deps.timer ?? { timerWheelEnable: true, timerMaxDelaySec: 259_200 };
  const nowMs = deps.nowMs ?? Date.now;
  const disabled = new PutRefusal(
    ResponseCode.SYSTEM_ERROR,
    'timer message is not enabled on this broker (timerWheelEnable=false)',
  );
  return {
    name: 'timer',
    leavesPlainAlone: true,
    beforePut(msg) {
      if (msg.scheduled !== true || msg.transactionPrepared === true || msg.topic === SystemTopic.wheelTimer) {
        return undefined;
      }
      const tx = transactionTypeOf(msg.sysFlag);
      if (tx !== SysFlag.transactionNotType && tx !== SysFlag.transactionCommitType) return undefined;
      const raw = msg.properties;
      const props = decodeProperties(typeof raw === 'string' ? raw : raw.toString('utf8'));
      if (props.has(Prop.timerOutMs) || !timerRequestProps.some((k) => props.has(k))) return undefined;
      if (Number.parseInt(props.get(Prop.delayLevel) ?? '', 10) > 0) {
        for (const k of timerRequestProps) props.delete(k);
        msg.properties = encodeProperties(props);
        return undefined;
      }
      if (!timerWheelEnable) return disabled;
      const ask = timerDecisionOf(props, nowMs(), timerMaxDelaySec);
      if (ask.kind === TimerAsk.illegal) return new PutRefusal(ResponseCode.MESSAGE_ILLEGAL, ask.remark);
      if (ask.kind !== TimerAsk.later) return undefined;
      props.set(Prop.timerOutMs, String(ask.deliverMs));
      props.set(Prop.realTopic, msg.topic);
      props.set(Prop.realQueueId, String(msg.queueId));
      msg.properties = encodeProperties(props);
      msg.topic = SystemTopic.wheelTimer;
      msg.queueId = 0;
      msg.tagsCode = BigInt(ask.deliverMs);
      return undefined;
    },
  };
}
