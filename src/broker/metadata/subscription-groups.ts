/** Subscription group configs (RocketMQ's SubscriptionGroupManager), persisted in config/subscriptionGroup.json. */
import { createLogger } from '../../common/log.js';
import { checkGroupName } from '../../common/validate.js';
import type { StorageIO } from '../../store/io.js';
import { CoalescedJob, metadataWriteGapMsMin } from './coalesced-job.js';
import { ConfigFile, type DataVersion, MetadataWriteError, nextDataVersion } from './config-file.js';

const log = createLogger('broker-groups');

/** SubscriptionGroupConfig fields as RocketMQ serializes them. */
export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
  /** RocketMQ 5: POP / gRPC consumers of this group get each message group's messages in order (FIFO). */
  consumeMessageOrderly: boolean;
}

export function subscriptionGroupOf(
  groupName: string,
  over: Partial<SubscriptionGroupConfig> = {},
): SubscriptionGroupConfig {
  return {
    consumeEnable: true,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: true,
    retryQueueNums: 1,
    retryMaxTimes: 16,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
    consumeMessageOrderly: false,
    ...over,
    groupName, // last: the table key decides
  };
}

export class SubscriptionGroupManager {
  private readonly table = new Map<string, SubscriptionGroupConfig>();
  private version: DataVersion = { timestamp: Date.now(), counter: 0 };
  private readonly file: ConfigFile;
  private readonly writer: CoalescedJob;

  /** `autoCreateMax`: auto-creation stops once this many groups exist (autoCreateSubscriptionGroupMax). */
  constructor(
    storePathRootDir: string,
    private readonly autoCreate: boolean,
    io?: StorageIO,
    private readonly autoCreateMax = Number.POSITIVE_INFINITY,
  ) {
    this.file = ConfigFile.under(storePathRootDir, 'subscriptionGroup.json', io);
    // The table is serialised when a write begins, never per change.
    this.writer = new CoalescedJob(() => this.file.save(this.toJSON()), metadataWriteGapMsMin);
  }

  /** Writes of subscriptionGroup.json begun so far. */
  get writesStarted(): number {
    return this.writer.started;
  }

  async load(): Promise<void> {
    const data = (await this.file.load()) as
      | { subscriptionGroupTable?: Record<string, Partial<SubscriptionGroupConfig>>; dataVersion?: DataVersion }
      | undefined;
    for (const [name, g] of Object.entries(data?.subscriptionGroupTable ?? {})) {
      this.table.set(name, subscriptionGroupOf(name, g));
    }
    if (data?.dataVersion !== undefined) this.version = { ...data.dataVersion };
  }

  get(group: string): SubscriptionGroupConfig | undefined {
    return this.table.get(group);
  }

  /**
   * The group's config, auto-created when enabled and under autoCreateSubscriptionGroupMax (as RocketMQ's
   * findSubscriptionGroupConfig); undefined otherwise, answered with missingRemark.
   */
  findOrCreate(group: string): SubscriptionGroupConfig | undefined {
    const g = this.table.get(group);
    if (g !== undefined || !this.autoCreate || this.table.size >= this.autoCreateMax) return g;
    // A name a client could never have been given is not created (and not persisted): answered with missingRemark.
    if (checkGroupName(group) !== undefined) return undefined;
    const created = subscriptionGroupOf(group);
    this.upsert(created);
    return created;
  }

  /** The remark of a SUBSCRIPTION_GROUP_NOT_EXIST answer; it names the limit when the limit kept it from being created. */
  missingRemark(group: string): string {
    const bad = checkGroupName(group);
    if (bad !== undefined) return `subscription group [${group}] does not exist and is not created: ${bad}`;
    if (this.autoCreate && this.table.size >= this.autoCreateMax) {
      return `subscription group [${group}] does not exist: not auto-created, the broker holds ${this.table.size} subscription groups (autoCreateSubscriptionGroupMax=${this.autoCreateMax})`;
    }
    return `subscription group [${group}] does not exist`;
  }

  all(): SubscriptionGroupConfig[] {
    return [...this.table.values()];
  }

  upsert(g: SubscriptionGroupConfig): void {
    this.table.set(g.groupName, g);
    this.version = nextDataVersion(this.version);
    this.persistInBackground();
  }

  delete(group: string): boolean {
    const had = this.table.delete(group);
    if (had) {
      this.version = nextDataVersion(this.version);
      this.persistInBackground();
    }
    return had;
  }

  toJSON(): { subscriptionGroupTable: Record<string, SubscriptionGroupConfig>; dataVersion: DataVersion } {
    return { subscriptionGroupTable: Object.fromEntries(this.table), dataVersion: this.version };
  }

  /** Changes are saved soon, coalesced; a failed save is retried by the file (which logs it once per episode). */
  private persistInBackground(): void {
    this.persist().catch((err: unknown) => {
      if (!(err instanceof MetadataWriteError)) log.error('persisting subscription groups failed', { err });
    });
  }

  /** Writes the file coalesced: settles when a write of the state as of this call or later has ended. */
  persist(): Promise<void> {
    return this.writer.request();
  }
}
