/**
 * The ConsumeQueue tagsCode of a stored record when queues are rebuilt from the CommitLog: a SCHEDULE_TOPIC_XXXX
 * entry's is its due time (store time + its level's delay), as RocketMQ's CommitLog computes it; any other
 * record's is its tag hash.
 */
import { tagsCodeOf } from '../../common/hash.js';
import { Prop } from '../../common/properties.js';
import { SystemTopic } from '../../common/topics.js';
import type { DelayLevels } from '../../store/delay-levels.js';
import type { TagsCodeOf } from '../../store/dispatch.js';

export function scheduleTagsCodeOf(levels: DelayLevels): TagsCodeOf {
  return (topic, props, storeTimestamp) => {
    const level = topic === SystemTopic.schedule ? Number(props.get(Prop.delayLevel)) : 0;
    if (!Number.isInteger(level) || level < 1) return tagsCodeOf(props.get(Prop.tags));
    return BigInt(storeTimestamp + levels.delayMs(level));
  };
}
