/**
 * Consumer offsets (RocketMQ's OffsetStore): the next offset to consume per queue, held in memory and
 * persisted to the broker (clustering, UPDATE_CONSUMER_OFFSET) or to a local file (broadcasting).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ClientInstance } from './client-instance.js';
import { BrokerNotFoundError } from './errors.js';
import { type MessageQueue, queueKey } from './message-queue.js';

export interface OffsetStore {
  /** Loads persisted offsets (local file); no-op for the broker store. */
  load(): Promise<void>;
  /** In-memory offset, if any. */
  memoryOffset(mq: MessageQueue): bigint | undefined;
  /** The persisted offset (broker or file); undefined when there is none. */
  storedOffset(mq: MessageQueue): Promise<bigint | undefined>;
  /** Sets the in-memory offset; with `increaseOnly` a smaller value is ignored. */
  update(mq: MessageQueue, offset: bigint, increaseOnly: boolean): void;
  /** Persists the offsets of `mqs` (all known queues when absent). */
  persistAll(mqs?: Iterable<MessageQueue>): Promise<void>;
  /** Forgets a queue (after persisting it yourself when needed). */
  remove(mq: MessageQueue): void;
}

abstract class MemoryOffsets {
  protected readonly table = new Map<string, { mq: MessageQueue; offset: bigint }>();

  memoryOffset(mq: MessageQueue): bigint | undefined {
    return this.table.get(queueKey(mq))?.offset;
  }

  update(mq: MessageQueue, offset: bigint, increaseOnly: boolean): void {
    if (offset < 0n) return;
    const key = queueKey(mq);
    const cur = this.table.get(key);
    if (cur !== undefined && increaseOnly && offset <= cur.offset) return;
    this.table.set(key, { mq, offset });
  }

  remove(mq: MessageQueue): void {
    this.table.delete(queueKey(mq));
  }
}

/** Offsets of a clustering group, kept by the broker that owns each queue. */
export class BrokerOffsetStore extends MemoryOffsets implements OffsetStore {
  constructor(
    private readonly instance: ClientInstance,
    private readonly group: string,
  ) {
    super();
  }

  async load(): Promise<void> {}

  private async addrOf(mq: MessageQueue): Promise<string | undefined> {
    let addr = this.instance.masterAddr(mq.brokerName);
    if (addr === undefined) {
      await this.instance.updateRoute(mq.topic);
      addr = this.instance.masterAddr(mq.brokerName);
    }
    return addr;
  }

  async storedOffset(mq: MessageQueue): Promise<bigint | undefined> {
    const addr = await this.addrOf(mq);
    if (addr === undefined) throw new BrokerNotFoundError(mq.brokerName, mq.topic);
    return this.instance.api.queryConsumerOffset(addr, this.group, mq.topic, mq.queueId);
  }

  async persistAll(mqs?: Iterable<MessageQueue>): Promise<void> {
    const targets = mqs === undefined ? [...this.table.values()].map((e) => e.mq) : [...mqs];
    await Promise.all(
      targets.map(async (mq) => {
        const offset = this.memoryOffset(mq);
        if (offset === undefined) return;
        try {
          const addr = await this.addrOf(mq);
          if (addr !== undefined)
            await this.instance.api.updateConsumerOffset(addr, this.group, mq.topic, mq.queueId, offset);
        } catch (err) {
          this.instance
            .logFor('client.offsets')
            .warn('offset commit failed', { group: this.group, queue: queueKey(mq), err });
        }
      }),
    );
  }
}

/** Offsets of a broadcasting consumer, in a JSON file of its own (each member reads everything). */
export class LocalFileOffsetStore extends MemoryOffsets implements OffsetStore {
  constructor(private readonly path: string) {
    super();
  }

  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const parsed = JSON.parse(text) as {
      offsetTable?: Record<string, { topic: string; brokerName: string; queueId: number; offset: string }>;
    };
    for (const e of Object.values(parsed.offsetTable ?? {})) {
      this.update({ topic: e.topic, brokerName: e.brokerName, queueId: e.queueId }, BigInt(e.offset), false);
    }
  }

  async storedOffset(mq: MessageQueue): Promise<bigint | undefined> {
    return this.memoryOffset(mq);
  }

  /** Kept: the file holds every queue this consumer ever read, so a later start resumes each one. */
  override remove(_mq: MessageQueue): void {}

  private writing: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  /** One write at a time (they share the temp file); calls during a write share the one write after it. */
  persistAll(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    if (this.writing === undefined) return this.startWrite();
    const next = this.writing
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.startWrite();
      });
    this.queued = next;
    return next;
  }

  private startWrite(): Promise<void> {
    const w = this.writeFile().finally(() => {
      if (this.writing === w) this.writing = undefined;
    });
    this.writing = w;
    return w;
  }

  private async writeFile(): Promise<void> {
    const offsetTable: Record<string, unknown> = {};
    for (const [key, e] of this.table) offsetTable[key] = { ...e.mq, offset: e.offset.toString() };
    await mkdir(dirname(this.path), { recursive: true });
    // Write then rename, so a crash leaves the old file or the new one, never half of one.
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, JSON.stringify({ offsetTable }, null, 1));
    await rename(tmp, this.path);
  }
}
