/**
 * Committed consumer offsets (RocketMQ's ConsumerOffsetManager): `topic@group` → queueId → next offset to
 * consume. Persisted to config/consumerOffset.json periodically and on close.
 */
import type { StorageIO } from '../../store/io.js';
import { CoalescedJob } from './coalesced-job.js';
import { ConfigFile, MetadataWriteError } from './config-file.js';

const keySeparator = '@';

export class ConsumerOffsetManager {
  private readonly table = new Map<string, Map<number, bigint>>();
  private readonly file: ConfigFile;
  private dirty = false;
  private readonly writer: CoalescedJob;
  /**
   * Offsets set by a reset (INVOKE_BROKER_TO_RESET_OFFSET) that no pull of the group has picked up yet: until one
   * does, commits of that queue are stale (sent before the consumer heard of the reset) and are ignored, and a pull
   * from another offset is answered PULL_OFFSET_MOVED to the reset one (RocketMQ 5's resetOffsetTable).
   */
  private readonly resets = new Map<string, Map<number, bigint>>();

  constructor(storePathRootDir: string, io?: StorageIO) {
    this.file = ConfigFile.under(storePathRootDir, 'consumerOffset.json', io);
    this.writer = new CoalescedJob(async () => {
      this.dirty = false;
      try {
        await this.file.save(this.toJSON());
      } catch (err) {
        this.dirty = true;
        throw err;
      }
    });
  }

  async load(): Promise<void> {
    const data = (await this.file.load()) as { offsetTable?: Record<string, Record<string, number>> } | undefined;
    for (const [key, queues] of Object.entries(data?.offsetTable ?? {})) {
      const m = new Map<number, bigint>();
      for (const [q, off] of Object.entries(queues)) m.set(Number(q), BigInt(off));
      this.table.set(key, m);
    }
  }

  commit(group: string, topic: string, queueId: number, offset: bigint): void {
    const key = topic + keySeparator + group;
    let m = this.table.get(key);
    if (m === undefined) {
      m = new Map();
      this.table.set(key, m);
    }
    m.set(queueId, offset);
    this.dirty = true;
  }

  /** Sets the offset of a reset and marks it pending until a pull of the queue takes it (`takeReset`). */
  assignReset(group: string, topic: string, queueId: number, offset: bigint): void {
    this.commit(group, topic, queueId, offset);
    const key = topic + keySeparator + group;
    let m = this.resets.get(key);
    if (m === undefined) {
      m = new Map();
      this.resets.set(key, m);
    }
    m.set(queueId, offset);
  }

  /** True while a reset of this queue waits for the group's next pull: client commits are then ignored. */
  hasReset(group: string, topic: string, queueId: number): boolean {
    return this.resets.size > 0 && this.resets.get(topic + keySeparator + group)?.has(queueId) === true;
  }

  /** The pending reset offset of this queue, cleared; undefined when there is none (one map lookup at most). */
  takeReset(group: string, topic: string, queueId: number): bigint | undefined {
    if (this.resets.size === 0) return undefined;
    const key = topic + keySeparator + group;
    const m = this.resets.get(key);
    const offset = m?.get(queueId);
    if (m === undefined || offset === undefined) return undefined;
    m.delete(queueId);
    if (m.size === 0) this.resets.delete(key);
    return offset;
  }

  /** The committed offset, or undefined when the group never committed one for this queue. */
  query(group: string, topic: string, queueId: number): bigint | undefined {
    return this.table.get(topic + keySeparator + group)?.get(queueId);
  }

  /** Offsets of one group on one topic. */
  queueOffsets(group: string, topic: string): ReadonlyMap<number, bigint> {
    return this.table.get(topic + keySeparator + group) ?? new Map();
  }

  /** Topics a group has offsets on. */
  topicsOf(group: string): string[] {
    const out: string[] = [];
    for (const key of this.table.keys()) {
      const at = key.lastIndexOf(keySeparator);
      if (key.slice(at + 1) === group) out.push(key.slice(0, at));
    }
    return out;
  }

  removeTopic(topic: string): void {
    for (const key of [...this.table.keys()]) {
      if (key.slice(0, key.lastIndexOf(keySeparator)) === topic) this.table.delete(key);
    }
    for (const key of [...this.resets.keys()]) {
      if (key.slice(0, key.lastIndexOf(keySeparator)) === topic) this.resets.delete(key);
    }
    this.dirty = true;
  }

  removeGroup(group: string): void {
    for (const key of [...this.table.keys()]) {
      if (key.slice(key.lastIndexOf(keySeparator) + 1) === group) this.table.delete(key);
    }
    for (const key of [...this.resets.keys()]) {
      if (key.slice(key.lastIndexOf(keySeparator) + 1) === group) this.resets.delete(key);
    }
    this.dirty = true;
  }

  /** RocketMQ's offsetTable shape with string keys (strict JSON). */
  toJSON(): { offsetTable: Record<string, Record<string, number>> } {
    const offsetTable: Record<string, Record<string, number>> = {};
    for (const [key, m] of this.table) {
      const queues: Record<string, number> = {};
      for (const [q, off] of m) queues[String(q)] = Number(off);
      offsetTable[key] = queues;
    }
    return { offsetTable };
  }

  /**
   * Writes the file when something changed since the last write (or always when `force`), one write at a time.
   * A failed periodic write is retried by the file itself (logged there, once per episode); `force` (shutdown)
   * rejects.
   */
  async persist(force = false): Promise<void> {
    if (!this.dirty && !force) return;
    try {
      await this.writer.request();
    } catch (err) {
      if (force || !(err instanceof MetadataWriteError)) throw err;
    }
  }
}
