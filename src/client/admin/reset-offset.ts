/**
 * Rewind and skip (mqadmin resetOffsetByTime / skipAccumulatedMessage): INVOKE_BROKER_TO_RESET_OFFSET (222) on
 * every master serving the topic. Each broker sets the group's offsets of its queues and tells the group's live
 * consumers (220), which read on from there; with no consumer online the offsets wait for the next start.
 */
import { InvalidArgumentError } from '../../common/errors.js';
import { checkGroupName, checkTopicName } from '../../common/validate.js';
import { RequestCode } from '../../remoting/codes.js';
import {
  decodeResetOffsetBody,
  encodeResetOffsetHeader,
  type QueueOffset,
  resetToEndTimestamp,
} from '../../remoting/protocol/reset-offset.js';
import type { AdminRpc } from './rpc.js';

export type { QueueOffset } from '../../remoting/protocol/reset-offset.js';

/**
 * Sets `group`'s offsets on `topic` to the first message stored at or after `timestampMs` (-1: the end of each
 * queue). Without `force` a queue only moves back. Returns each queue's offset after the reset.
 */
export async function resetOffsetByTime(
  rpc: AdminRpc,
  group: string,
  topic: string,
  timestampMs: number,
  force: boolean,
): Promise<QueueOffset[]> {
  const badGroup = checkGroupName(group);
  if (badGroup !== undefined) throw new InvalidArgumentError(badGroup);
  const badTopic = checkTopicName(topic);
  if (badTopic !== undefined) throw new InvalidArgumentError(badTopic);
  if (!Number.isSafeInteger(timestampMs) || (timestampMs < 0 && timestampMs !== resetToEndTimestamp)) {
    throw new InvalidArgumentError(`timestamp must be ms since the epoch (or -1 for the end), got ${timestampMs}`);
  }
  const fields = encodeResetOffsetHeader({ topic, group, timestamp: timestampMs, isForce: force });
  const out: QueueOffset[] = [];
  for (const { addr } of await rpc.topicMasters(topic)) {
    out.push(...decodeResetOffsetBody((await rpc.call(addr, RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, fields)).body));
  }
  return out.sort((a, b) => a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId);
}
