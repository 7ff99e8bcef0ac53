/**
 * Topic admin: UPDATE_AND_CREATE_TOPIC (17), DELETE_TOPIC_IN_BROKER (215), DELETE_TOPIC_IN_NAMESRV (216),
 * GET_ALL_TOPIC_CONFIG (21, no header).
 *
 * CreateTopicRequestHeader (* = required by RocketMQ 4.9.8):
 *   topic String *, defaultTopic String *, readQueueNums Integer *, writeQueueNums Integer *, perm Integer *,
 *   topicFilterType String *, topicSysFlag Integer, order Boolean *, attributes String (5.x: `+k=v,-k`)
 *   (the broker defaults queue numbers to its defaultTopicQueueNums, perm to 6, SINGLE_TAG, 0, false)
 * DeleteTopicRequestHeader: topic String *.
 * DeleteTopicFromNamesrvRequestHeader: topic String *, clusterName String (absent: every cluster).
 */
import { SystemTopic } from '../../common/topics.js';
import type { RemotingCommand } from '../command.js';
import { optionalBool, optionalInt, optionalString, requireString } from '../fields.js';

export const topicFilterTypeDefault = 'SINGLE_TAG';
export const topicPermDefault = 6;

export interface CreateTopicRequestHeader {
  topic: string;
  defaultTopic?: string | undefined;
  readQueueNums?: number | undefined;
  writeQueueNums?: number | undefined;
  perm?: number | undefined;
  topicFilterType?: string | undefined;
  topicSysFlag?: number | undefined;
  order?: boolean | undefined;
  /** RocketMQ 5's topic attribute changes, `+message.type=FIFO` / `-message.type`; absent keeps them. */
  attributes?: string | undefined;
}

/** Every field written, as RocketMQ's admin does; unset ones get RocketMQ's defaults. */
export function encodeCreateTopicHeader(
  h: CreateTopicRequestHeader & { readQueueNums: number; writeQueueNums: number },
) {
  const out: Record<string, string> = {
    topic: h.topic,
    defaultTopic: h.defaultTopic ?? SystemTopic.autoCreate,
    readQueueNums: String(h.readQueueNums),
    writeQueueNums: String(h.writeQueueNums),
    perm: String(h.perm ?? topicPermDefault),
    topicFilterType: h.topicFilterType ?? topicFilterTypeDefault,
    topicSysFlag: String(h.topicSysFlag ?? 0),
    order: String(h.order ?? false),
  };
  if (h.attributes !== undefined) out['attributes'] = h.attributes;
  return out;
}

/** Fields left out are undefined: the broker fills them from its own defaults. */
export function decodeCreateTopicHeader(req: RemotingCommand): CreateTopicRequestHeader {
  return {
    topic: requireString(req, 'topic'),
    defaultTopic: optionalString(req, 'defaultTopic'),
    readQueueNums: optionalInt(req, 'readQueueNums'),
    writeQueueNums: optionalInt(req, 'writeQueueNums'),
    perm: optionalInt(req, 'perm'),
    topicFilterType: optionalString(req, 'topicFilterType'),
    topicSysFlag: optionalInt(req, 'topicSysFlag'),
    order: optionalBool(req, 'order'),
    attributes: optionalString(req, 'attributes'),
  };
}

/** DELETE_TOPIC_IN_BROKER, GET_TOPIC_STATS_INFO, GET_ROUTEINFO_BY_TOPIC: one topic. */
export interface TopicRequestHeader {
  topic: string;
}

export function encodeTopicHeader(h: TopicRequestHeader): Record<string, string> {
  return { topic: h.topic };
}

export function decodeTopicHeader(req: RemotingCommand): TopicRequestHeader {
  return { topic: requireString(req, 'topic') };
}

export interface DeleteTopicFromNamesrvRequestHeader {
  topic: string;
  clusterName?: string | undefined;
}

export function encodeDeleteTopicFromNamesrvHeader(h: DeleteTopicFromNamesrvRequestHeader): Record<string, string> {
  const out: Record<string, string> = { topic: h.topic };
  if (h.clusterName !== undefined) out['clusterName'] = h.clusterName;
  return out;
}

export function decodeDeleteTopicFromNamesrvHeader(req: RemotingCommand): DeleteTopicFromNamesrvRequestHeader {
  return { topic: requireString(req, 'topic'), clusterName: optionalString(req, 'clusterName') };
}
