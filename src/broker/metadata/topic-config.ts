/** Topic configuration table (RocketMQ's TopicConfigManager): queue numbers and permissions per topic. */
import { attributesOfJson, restrictedMessageTypeOf } from '../../common/topic-attributes.js';
import { groupOfRetryOrDlq, replyTopicOf, SystemTopic } from '../../common/topics.js';
import { checkTopicName } from '../../common/validate.js';
import type { StorageIO } from '../../store/io.js';
import type { BrokerConfig } from '../config.js';
import { CoalescedJob, metadataWriteGapMsMin } from './coalesced-job.js';
import { ConfigFile, type DataVersion, nextDataVersion } from './config-file.js';
import { Perm } from './perm.js';

/** TopicConfig as RocketMQ serializes it (topics.json, GET_ALL_TOPIC_CONFIG, REGISTER_BROKER). */
export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: string;
  topicSysFlag: number;
  order: boolean;
  /** RocketMQ 5's topic attributes (`message.type`); absent when none are set. */
  attributes?: Record<string, string>;
}

export const autoCreateTopicKey = SystemTopic.autoCreate;
export const selfTestTopic = SystemTopic.selfTest;
export const offsetMovedEventTopic = SystemTopic.offsetMovedEvent;
export const queueNumsMax = 1024;

export function topicConfigOf(topicName: string, queueNums: number, perm = Perm.read | Perm.write): TopicConfig {
  return {
    topicName,
    readQueueNums: queueNums,
    writeQueueNums: queueNums,
    perm,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
  };
}

/** Checks a topic config from a client; an error message or undefined. */
export function checkTopicConfig(tc: TopicConfig): string | undefined {
  const bad = checkTopicName(tc.topicName);
  if (bad !== undefined) return bad;
  for (const [name, n] of [
    ['readQueueNums', tc.readQueueNums],
    ['writeQueueNums', tc.writeQueueNums],
  ] as const) {
    if (!Number.isInteger(n) || n < 0 || n > queueNumsMax) return `${name} ${n} is outside 0..${queueNumsMax}`;
  }
  if (!Number.isInteger(tc.perm) || tc.perm < 0 || tc.perm > 15) return `perm ${tc.perm} is not a PermName bit set`;
  return undefined;
}

export class TopicConfigManager {
  private readonly table = new Map<string, TopicConfig>();
  private version: DataVersion = { timestamp: Date.now(), counter: 0 };
  private readonly file: ConfigFile;
  private readonly listeners: Array<(topics: string[]) => void> = [];
  private readonly writer: CoalescedJob;
  private groupTopics = 0;
  /** Topics the broker made itself whose topics.json write has not ended yet (see `unwritten`). */
  private readonly pendingWrites = new Map<string, { write: Promise<void>; failed: boolean }>();
  private typedTopics = 0;

  constructor(
    private readonly config: BrokerConfig,
    io?: StorageIO,
  ) {
    this.file = ConfigFile.under(config.storePathRootDir, 'topics.json', io);
    // The table is serialised when a write begins, never per change.
    this.writer = new CoalescedJob(() => this.file.save(this.toJSON()), metadataWriteGapMsMin);
  }

  /** Topics restricted to one message type: while 0, the put path asks nothing about types. */
  get typedTopicCount(): number {
    return this.typedTopics;
  }

  /** Writes of topics.json begun so far. */
  get writesStarted(): number {
    return this.writer.started;
  }

  async load(): Promise<void> {
    const data = (await this.file.load()) as
      | { dataVersion?: DataVersion; topicConfigTable?: Record<string, Partial<TopicConfig>> }
      | undefined;
    if (data?.topicConfigTable !== undefined) {
      for (const [name, tc] of Object.entries(data.topicConfigTable)) {
        const { attributes, ...rest } = tc;
        const loaded: TopicConfig = { ...topicConfigOf(name, 0), ...rest, topicName: name };
        const attrs = attributesOfJson(attributes);
        if (attrs !== undefined) loaded.attributes = attrs;
        this.set(loaded);
      }
    }
    if (data?.dataVersion !== undefined) this.version = { ...data.dataVersion };
    this.addSystemTopics();
  }

  private addSystemTopics(): void {
    const c = this.config;
    const put = (tc: TopicConfig) => {
      if (!this.table.has(tc.topicName)) this.set(tc);
    };
    put(topicConfigOf(selfTestTopic, 1));
    if (c.autoCreateTopicEnable) {
      put(topicConfigOf(autoCreateTopicKey, c.defaultTopicQueueNums, Perm.inherit | Perm.read | Perm.write));
    }
    put(topicConfigOf(c.brokerClusterName, 16, Perm.inherit | Perm.read | Perm.write));
    put(topicConfigOf(c.brokerName, 1, Perm.inherit | Perm.read | Perm.write));
    put(topicConfigOf(offsetMovedEventTopic, 1));
    // Request-reply: responders send replies here (RocketMQ creates it with one queue).
    put(topicConfigOf(replyTopicOf(c.brokerClusterName), 1));
    // Message trace: clients' trace dispatchers send here (RocketMQ's traceTopicEnable, one queue).
    if (c.traceTopicEnable) put(topicConfigOf(c.msgTraceTopicName, 1));
  }

  /** Called with the changed topic names after every change (registration, persistence). */
  onChange(cb: (topics: string[]) => void): void {
    this.listeners.push(cb);
  }

  get(topic: string): TopicConfig | undefined {
    return this.table.get(topic);
  }

  all(): TopicConfig[] {
    return [...this.table.values()];
  }

  dataVersion(): DataVersion {
    return this.version;
  }

  /** Creates or replaces a topic config. */
  upsert(tc: TopicConfig): void {
    this.set({ ...tc });
    this.changed([tc.topicName]);
  }

  delete(topic: string): boolean {
    const old = this.table.get(topic);
    const had = this.table.delete(topic);
    this.pendingWrites.delete(topic);
    if (had && groupOfRetryOrDlq(topic) !== undefined) this.groupTopics--;
    if (old !== undefined && restrictedMessageTypeOf(old.attributes) !== undefined) this.typedTopics--;
    if (had) this.changed([topic]);
    return had;
  }

  /**
   * Auto-creation on send, as RocketMQ does it: allowed when the default topic (TBW102) exists with the
   * inherit bit; queue numbers are the smaller of the request's and the default topic's.
   */
  createOnSend(topic: string, defaultTopic: string, queueNums: number): TopicConfig | undefined {
    const existing = this.table.get(topic);
    if (existing !== undefined) return existing;
    if (!this.config.autoCreateTopicEnable || this.autoCreateFull()) return undefined;
    const def = this.table.get(defaultTopic === '' ? autoCreateTopicKey : defaultTopic);
    if (def === undefined || (def.perm & Perm.inherit) === 0) return undefined;
    const n = Math.max(1, Math.min(queueNums > 0 ? queueNums : def.writeQueueNums, def.writeQueueNums));
    const tc = topicConfigOf(topic, n, def.perm & ~Perm.inherit);
    this.upsert(tc);
    this.writeCreated(topic);
    return tc;
  }

  /**
   * The write a topic made by the broker itself (auto-created on send, a group's retry topic) still waits for, or
   * undefined once topics.json holds it. A send into such a topic is answered only after it: a crash right after the
   * answer would otherwise lose the topic, and with it the route to the message (RocketMQ persists before answering
   * too). Cheap while no topic is pending: one size check.
   */
  unwritten(topic: string): Promise<void> | undefined {
    if (this.pendingWrites.size === 0) return undefined;
    const pending = this.pendingWrites.get(topic);
    if (pending === undefined) return undefined;
    return pending.failed ? this.writeCreated(topic) : pending.write;
  }

  /** Starts (or joins) the coalesced write that makes `topic` durable; a failed write is tried again by the next ask. */
  private writeCreated(topic: string): Promise<void> {
    const entry = { write: this.persist(), failed: false };
    this.pendingWrites.set(topic, entry);
    entry.write.then(
      () => {
        if (this.pendingWrites.get(topic) === entry) this.pendingWrites.delete(topic);
      },
      () => {
        entry.failed = true;
      },
    );
    return entry.write;
  }

  /** The remark of a TOPIC_NOT_EXIST answer; it names the limit when the limit kept the topic from being created. */
  missingRemark(topic: string): string {
    const c = this.config;
    const why =
      c.autoCreateTopicEnable && this.autoCreateFull()
        ? `: not auto-created, the broker holds ${this.plainTopics()} topics (autoCreateTopicMax=${c.autoCreateTopicMax})`
        : ', apply first please';
    return `topic[${topic}] not exist on broker ${c.brokerName}${why}`;
  }

  /** Topics other than a group's retry and DLQ topics (those are bounded by the subscription groups). */
  private plainTopics(): number {
    return this.table.size - this.groupTopics;
  }

  private autoCreateFull(): boolean {
    return this.plainTopics() >= this.config.autoCreateTopicMax;
  }

  private set(tc: TopicConfig): void {
    const old = this.table.get(tc.topicName);
    if (old === undefined && groupOfRetryOrDlq(tc.topicName) !== undefined) this.groupTopics++;
    if (old !== undefined && restrictedMessageTypeOf(old.attributes) !== undefined) this.typedTopics--;
    if (restrictedMessageTypeOf(tc.attributes) !== undefined) this.typedTopics++;
    this.table.set(tc.topicName, tc);
  }

  /** Retry/DLQ topics of a subscription group: created by the broker with a fixed queue count (two per group). */
  ensureTopic(topic: string, queueNums: number, perm: number): TopicConfig {
    const existing = this.table.get(topic);
    if (existing !== undefined) return existing;
    const tc = topicConfigOf(topic, queueNums, perm);
    this.upsert(tc);
    this.writeCreated(topic);
    return tc;
  }

  /** The serialized table (topics.json and the REGISTER_BROKER wrapper). */
  toJSON(): { topicConfigTable: Record<string, TopicConfig>; dataVersion: DataVersion } {
    return { topicConfigTable: Object.fromEntries(this.table), dataVersion: this.version };
  }

  /** Writes topics.json coalesced: settles when a write of the state as of this call or later has ended. */
  persist(): Promise<void> {
    return this.writer.request();
  }

  private changed(topics: string[]): void {
    this.version = nextDataVersion(this.version);
    for (const cb of this.listeners) cb(topics);
  }
}
