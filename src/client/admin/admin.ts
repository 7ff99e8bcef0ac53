/**
 * Admin API: the operations behind `tsrocket admin` (mqadmin), over RocketMQ's remoting protocol.
 * Talks to the NameServers for routes and cluster membership and to broker masters for everything else.
 */
import { InvalidArgumentError, TsRocketError } from '../../common/errors.js';
import type { MessageExt } from '../../common/message.js';
import {
  dedupWindowAttribute,
  dedupWindowMsMax,
  dedupWindowMsMin,
  encodeAttributeChanges,
  isTopicMessageType,
  messageTypeAttribute,
  type TopicMessageType,
} from '../../common/topic-attributes.js';
import { retryTopicOf, SystemTopic } from '../../common/topics.js';
import { checkTopicName } from '../../common/validate.js';
import { RequestCode } from '../../remoting/codes.js';
import { RemotingResponseError } from '../../remoting/errors.js';
import { resetToEndTimestamp } from '../../remoting/protocol/reset-offset.js';
import { encodeConsumeStatsHeader } from '../../remoting/protocol/stats.js';
import {
  encodeCreateTopicHeader,
  encodeDeleteTopicFromNamesrvHeader,
  encodeTopicHeader,
} from '../../remoting/protocol/topic-admin.js';
import {
  type BrokerTopicConfig,
  type ClusterInfo,
  type ConsumeStats,
  decodeConsumeStats,
  decodeKVTable,
  decodeTopicConfigOf,
  decodeTopicList,
  decodeTopicStats,
  type QueueConsumeStat,
  type TopicOffset,
  type TopicRouteData,
} from './bodies.js';
import { type DlqResent, type DlqSelection, resendFromDlq } from './dlq.js';
import {
  type AdminPullResult,
  type AdminSendResult,
  pullOnce,
  queryMessages,
  type SendOptions,
  sendMessage,
  viewMessageById,
} from './messages.js';
import { type QueueOffset, resetOffsetByTime } from './reset-offset.js';
import { AdminRpc, adminTimeoutMsDefault, nameServerDefault } from './rpc.js';
import { type MessageTrace, queryMsgTraceById } from './trace.js';

export { TopicMessageType } from '../../common/topic-attributes.js';
export type { BrokerTopicConfig, ClusterInfo, TopicOffset, TopicRouteData } from './bodies.js';
export { DlqMessageNotFoundError, type DlqResent, type DlqSelection } from './dlq.js';
export type { AdminPullResult, AdminSendResult, SendOptions } from './messages.js';
export type { QueueOffset } from './reset-offset.js';
export type { MessageTrace, TraceConsume, TraceEndTransaction, TraceSend } from './trace.js';

export interface AdminOptions {
  /** `host:port;host2:port`; defaults to env NAMESRV_ADDR, then 127.0.0.1:9876. */
  nameServer?: string | undefined;
  timeoutMs?: number | undefined;
}

/** Perm bits as RocketMQ defines them (PermName). */
export const Perm = { inherit: 1, write: 2, read: 4 } as const;

export interface TopicConfig {
  topicName: string;
  readQueueNums?: number | undefined;
  writeQueueNums?: number | undefined;
  /** 2 write, 4 read, 6 read+write (default). */
  perm?: number | undefined;
  order?: boolean | undefined;
  /**
   * RocketMQ 5's message type (NORMAL, FIFO, DELAY, TRANSACTION): the topic then refuses other types. Unset
   * leaves the type as it is; a topic never typed accepts every type.
   */
  messageType?: TopicMessageType | undefined;
  /**
   * Producer de-duplication (tsrocket, beyond RocketMQ): a resend whose UNIQ_KEY the broker stored within this
   * many ms (1000..86400000; 600000 = 10 minutes is the usual choice) is answered with the first result and not
   * stored again. 0 turns it off; unset leaves it as it is.
   */
  dedupWindowMs?: number | undefined;
  /** Raw attribute changes in RocketMQ's form (`+message.type=FIFO`, `-message.type` to untype). */
  attributes?: string | undefined;
}

/** Where a topic is created: one broker, or every master of a cluster. */
export type TopicTarget = { brokerAddr: string } | { cluster: string };

export interface QueueProgress extends QueueConsumeStat {
  /** brokerOffset − consumerOffset (never negative). */
  lag: number;
}

export interface ConsumerProgress {
  group: string;
  queues: QueueProgress[];
  consumeTps: number;
  brokerOffsetTotal: number;
  consumerOffsetTotal: number;
  lagTotal: number;
}

export const queueNumsDefault = 8;
export const queueNumsMax = 1024;

export class Admin {
  private readonly rpc: AdminRpc;

  constructor(opts: AdminOptions = {}) {
    this.rpc = new AdminRpc(
      opts.nameServer ?? process.env['NAMESRV_ADDR'] ?? nameServerDefault,
      opts.timeoutMs ?? adminTimeoutMsDefault,
    );
  }

  get nameServers(): readonly string[] {
    return this.rpc.nameServers;
  }

  /** UPDATE_AND_CREATE_TOPIC (17) on one broker or on every master of a cluster; returns the addresses updated. */
  async createOrUpdateTopic(target: TopicTarget, config: TopicConfig): Promise<string[]> {
    const problem = checkTopicName(config.topicName);
    if (problem !== undefined) throw new InvalidArgumentError(problem);
    const read = config.readQueueNums ?? queueNumsDefault;
    const write = config.writeQueueNums ?? queueNumsDefault;
    for (const [name, n] of [
      ['readQueueNums', read],
      ['writeQueueNums', write],
    ] as const) {
      if (!Number.isInteger(n) || n < 1 || n > queueNumsMax)
        throw new InvalidArgumentError(`${name} must be 1..${queueNumsMax}, got ${n}`);
    }
    const perm = config.perm ?? Perm.read | Perm.write;
    if (!Number.isInteger(perm) || perm < 0 || perm > 7)
      throw new InvalidArgumentError(`perm must be 0..7, got ${perm}`);
    const attributes = attributesOf(config);
    const addrs =
      'brokerAddr' in target ? [target.brokerAddr] : (await this.rpc.clusterMasters(target.cluster)).map((m) => m.addr);
    if (addrs.length === 0) throw new TsRocketError('no master broker found to create the topic on');
    const fields = encodeCreateTopicHeader({
      topic: config.topicName,
      readQueueNums: read,
      writeQueueNums: write,
      perm,
      order: config.order ?? false,
      attributes,
    });
    for (const addr of addrs) await this.rpc.call(addr, RequestCode.UPDATE_AND_CREATE_TOPIC, fields);
    return addrs;
  }

  /** DELETE_TOPIC_IN_BROKER (215) on the cluster's masters, then DELETE_TOPIC_IN_NAMESRV (216) on every NameServer. */
  async deleteTopic(topic: string, cluster?: string): Promise<string[]> {
    const masters = await this.rpc.clusterMasters(cluster);
    for (const { addr } of masters) {
      await this.rpc.call(addr, RequestCode.DELETE_TOPIC_IN_BROKER, encodeTopicHeader({ topic }));
    }
    const fromNamesrv = encodeDeleteTopicFromNamesrvHeader({ topic, clusterName: cluster });
    for (const ns of this.rpc.nameServers) await this.rpc.call(ns, RequestCode.DELETE_TOPIC_IN_NAMESRV, fromNamesrv);
    return masters.map((m) => m.addr);
  }

  /** GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206), sorted. */
  async topicList(): Promise<string[]> {
    return decodeTopicList((await this.rpc.callNameServer(206)).body).sort();
  }

  /** GET_ROUTEINFO_BY_TOPIC (105). */
  topicRoute(topic: string): Promise<TopicRouteData> {
    return this.rpc.topicRoute(topic);
  }

  /** GET_TOPIC_STATS_INFO (202) on each master of the topic: min/max offset and last store time per queue. */
  async topicStatus(topic: string): Promise<TopicOffset[]> {
    const out: TopicOffset[] = [];
    for (const { addr } of await this.rpc.topicMasters(topic)) {
      out.push(
        ...decodeTopicStats(
          (await this.rpc.call(addr, RequestCode.GET_TOPIC_STATS_INFO, encodeTopicHeader({ topic }))).body,
        ),
      );
    }
    return out.sort((a, b) => a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId);
  }

  /** The topic's config on each master serving it (GET_ALL_TOPIC_CONFIG 21): queues, perm, message type. */
  async topicConfig(topic: string): Promise<Array<{ brokerName: string; addr: string; config: BrokerTopicConfig }>> {
    const out: Array<{ brokerName: string; addr: string; config: BrokerTopicConfig }> = [];
    for (const { brokerName, addr } of await this.rpc.topicMasters(topic)) {
      const config = decodeTopicConfigOf((await this.rpc.call(addr, RequestCode.GET_ALL_TOPIC_CONFIG)).body, topic);
      if (config !== undefined) out.push({ brokerName, addr, config });
    }
    return out;
  }

  /** GET_BROKER_CLUSTER_INFO (106). */
  clusterInfo(): Promise<ClusterInfo> {
    return this.rpc.clusterInfo();
  }

  /** GET_BROKER_RUNTIME_INFO (28): the broker's KVTable of runtime figures. */
  async brokerRuntimeInfo(brokerAddr: string): Promise<Record<string, string>> {
    return decodeKVTable((await this.rpc.call(brokerAddr, 28)).body);
  }

  /**
   * GET_CONSUME_STATS (208) on each master serving the topic (or the group's retry topic, or the whole cluster):
   * broker offset, consumer offset and lag per queue, with totals.
   */
  async consumerProgress(group: string, topic?: string): Promise<ConsumerProgress> {
    let masters: Array<{ brokerName: string; addr: string }>;
    try {
      masters = await this.rpc.topicMasters(topic ?? retryTopicOf(group));
    } catch (e) {
      if (topic !== undefined || !(e instanceof RemotingResponseError)) throw e;
      masters = await this.rpc.clusterMasters();
    }
    const stats: ConsumeStats[] = [];
    let firstError: unknown;
    for (const { addr } of masters) {
      try {
        const fields = encodeConsumeStatsHeader({ consumerGroup: group, topic });
        stats.push(decodeConsumeStats((await this.rpc.call(addr, RequestCode.GET_CONSUME_STATS, fields)).body));
      } catch (e) {
        if (!(e instanceof RemotingResponseError)) throw e;
        firstError ??= e;
      }
    }
    if (stats.length === 0 && firstError !== undefined) throw firstError;
    return summarizeProgress(group, stats);
  }

  /** By offsetMsgId (VIEW_MESSAGE_BY_ID 33) or by client msgId (QUERY_MESSAGE 12 with the unique-key flag). */
  viewMessageById(msgId: string, topic?: string): Promise<MessageExt[]> {
    return viewMessageById(this.rpc, msgId, topic);
  }

  /** QUERY_MESSAGE (12) on every master of the topic, merged. */
  queryMessageByKey(topic: string, key: string, maxNum?: number): Promise<MessageExt[]> {
    return queryMessages(this.rpc, topic, key, maxNum === undefined ? {} : { maxNum });
  }

  /**
   * The trace of a message (mqadmin's queryMsgTraceById): its Pub, SubBefore/SubAfter and EndTransaction records
   * found by key = msgId in `traceTopic` (default RMQ_SYS_TRACE_TOPIC), as a timeline.
   */
  async queryMsgTraceById(msgId: string, traceTopic: string = SystemTopic.trace): Promise<MessageTrace> {
    // A client msgId: 32 hex characters, 56 when the client's address is IPv6 (MessageClientIDSetter).
    if (!/^[0-9A-Fa-f]{32}([0-9A-Fa-f]{24})?$/.test(msgId)) {
      throw new InvalidArgumentError(`msgId must be 32 (or 56) hex characters: '${msgId}'`);
    }
    const bad = checkTopicName(traceTopic);
    if (bad !== undefined) throw new InvalidArgumentError(`invalid trace topic: ${bad}`);
    return queryMsgTraceById(this.rpc, msgId.toUpperCase(), traceTopic);
  }

  /** A single SEND_MESSAGE_V2 (310), for tooling; applications use Producer. */
  sendMessage(topic: string, body: Buffer | string, opts?: SendOptions): Promise<AdminSendResult> {
    return sendMessage(this.rpc, topic, typeof body === 'string' ? Buffer.from(body, 'utf8') : body, opts);
  }

  /** One PULL_MESSAGE (11) from a broker address, without suspend or offset commit. */
  pull(brokerAddr: string, topic: string, queueId: number, offset: number, maxNums?: number): Promise<AdminPullResult> {
    return pullOnce(this.rpc, brokerAddr, topic, queueId, offset, maxNums);
  }

  /**
   * Puts dead-lettered messages of `group` back to it (RocketMQ dashboard's "resend DLQ message"): each is sent
   * to `%RETRY%<group>` with reconsumeTimes 0 and its original topic and msgId, so only that group receives it
   * again, with its full retry budget. `{ msgId }` (client msgId or offsetMsgId) resends one; otherwise a range of
   * DLQ queue offsets per broker, by default the whole DLQ as it is when the call starts.
   */
  resendFromDlq(group: string, selection: DlqSelection = {}): Promise<DlqResent[]> {
    return resendFromDlq(this.rpc, group, selection);
  }

  /**
   * Rewinds (or moves on) `group` on `topic` to the first message stored at or after `timestampMs`, while its
   * consumers run (mqadmin resetOffsetByTime). Without `force` (default true) a queue only moves back.
   * Returns each queue's offset after the reset.
   */
  resetOffsetByTime(group: string, topic: string, timestampMs: number, force = true): Promise<QueueOffset[]> {
    return resetOffsetByTime(this.rpc, group, topic, timestampMs, force);
  }

  /** Moves `group` on `topic` to the end of every queue: its backlog is skipped (mqadmin skipAccumulatedMessage). */
  skipAccumulatedMessage(group: string, topic: string, force = true): Promise<QueueOffset[]> {
    return resetOffsetByTime(this.rpc, group, topic, resetToEndTimestamp, force);
  }

  close(): Promise<void> {
    return this.rpc.close();
  }
}

/** The `attributes` field of a create/update: `messageType` as `+message.type=X`, plus any raw changes. */
function attributesOf(config: TopicConfig): string | undefined {
  const parts: string[] = [];
  if (config.messageType !== undefined) {
    if (!isTopicMessageType(config.messageType))
      throw new InvalidArgumentError(
        `messageType must be NORMAL, FIFO, DELAY or TRANSACTION, got ${config.messageType}`,
      );
    parts.push(encodeAttributeChanges({ [messageTypeAttribute]: config.messageType }));
  }
  const w = config.dedupWindowMs;
  if (w !== undefined) {
    if (w !== 0 && !(Number.isInteger(w) && w >= dedupWindowMsMin && w <= dedupWindowMsMax))
      throw new InvalidArgumentError(
        `dedupWindowMs must be 0 (off) or ${dedupWindowMsMin}..${dedupWindowMsMax} ms, got ${w}`,
      );
    parts.push(w === 0 ? `-${dedupWindowAttribute}` : encodeAttributeChanges({ [dedupWindowAttribute]: String(w) }));
  }
  if (config.attributes !== undefined && config.attributes !== '') parts.push(config.attributes);
  return parts.length === 0 ? undefined : parts.join(',');
}

export function summarizeProgress(group: string, stats: readonly ConsumeStats[]): ConsumerProgress {
  const queues: QueueProgress[] = stats
    .flatMap((s) => s.queues)
    .map((q) => ({ ...q, lag: Math.max(0, q.brokerOffset - Math.max(0, q.consumerOffset)) }))
    .sort(
      (a, b) => a.topic.localeCompare(b.topic) || a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId,
    );
  const sum = (f: (q: QueueProgress) => number) => queues.reduce((acc, q) => acc + f(q), 0);
  return {
    group,
    queues,
    consumeTps: stats.reduce((acc, s) => acc + s.consumeTps, 0),
    brokerOffsetTotal: sum((q) => q.brokerOffset),
    consumerOffsetTotal: sum((q) => Math.max(0, q.consumerOffset)),
    lagTotal: sum((q) => q.lag),
  };
}
