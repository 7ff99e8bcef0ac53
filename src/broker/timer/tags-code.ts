/**
 * The ConsumeQueue tagsCode of rmq_sys_wheel_timer entries is the deliver time (TIMER_OUT_MS), also when the
 * store rebuilds queues from the CommitLog after a crash: the timer service reloads pending messages from it.
 */
import { Prop } from '../../common/properties.js';
import { SystemTopic } from '../../common/topics.js';
import type { TagsCodeOf } from '../../store/dispatch.js';

export function timerTagsCodeOf(other: TagsCodeOf): TagsCodeOf {
  return (topic, props, storeTimestamp) => {
    if (topic === SystemTopic.wheelTimer) {
      const at = Number(props.get(Prop.timerOutMs));
      if (Number.isSafeInteger(at) && at > 0) return BigInt(at);
    }
    return other(topic, props, storeTimestamp);
  };
}
