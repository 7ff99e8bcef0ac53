/**
 * Broker metadata files under `<storePathRootDir>/config/`: strict JSON, replaced durably through the store's
 * StorageIO (temp file, fdatasync, previous copy kept as `.bak`, rename, folder fsync: store/durable-file.ts).
 * A failed write (EMFILE, ENOSPC, EIO) leaves the previous copy intact, so it is retried with back-off in the
 * background, logged once per episode; it never stops the broker.
 */
import path from 'node:path';
import { TsRocketError } from '../../common/errors.js';
import { parseTolerantJson } from '../../common/json.js';
import { createLogger } from '../../common/log.js';
import { loadFileWithBackup, replaceFileDurable } from '../../store/durable-file.js';
import { NodeStorageIO, type StorageIO } from '../../store/io.js';
import { RetryEpisode, sleepMs } from '../../store/retry-episode.js';

const log = createLogger('broker-config');

/** A metadata file could not be written now; the newest content is retried in the background. */
export class MetadataWriteError extends TsRocketError {
  constructor(file: string, cause: unknown) {
    super(`cannot write ${file} (retried in the background): ${(cause as Error).message}`, { cause, retriable: true });
  }
}

export class ConfigFile {
  private writing: Promise<void> = Promise.resolve();
  /** The newest content whose write failed, until a later write succeeds. */
  private unsaved: Buffer | undefined;
  private retrying = false;
  /** Writes enqueued and not yet ended. */
  private queued = 0;
  private readonly episode: RetryEpisode;

  constructor(
    readonly file: string,
    private readonly io: StorageIO = new NodeStorageIO(),
  ) {
    this.episode = new RetryEpisode(`persisting ${file}`, log);
  }

  static under(storePathRootDir: string, name: string, io?: StorageIO): ConfigFile {
    return new ConfigFile(path.join(storePathRootDir, 'config', name), io);
  }

  /**
   * The parsed file (or its previous copy when the file is missing or unreadable), undefined when there is
   * neither. Throws when there is content and no readable copy (DurableFileCorruptError), never answers empty.
   */
  async load(): Promise<unknown> {
    const got = await loadFileWithBackup(this.io, this.file, (b) => parseTolerantJson(b.toString('utf8')));
    if (got?.fromBackup === true)
      log.warn('metadata file unreadable or missing, loaded its previous copy', { file: this.file });
    return got?.value;
  }

  /**
   * Writes `value` as JSON durably; writes are serialized so the last call wins on disk. On an I/O error rejects
   * with MetadataWriteError and keeps retrying the newest content until a write succeeds.
   */
  save(value: unknown): Promise<void> {
    return this.enqueue(Buffer.from(JSON.stringify(value, null, 1)));
  }

  /** True while a failed write waits for its retry. */
  get failing(): boolean {
    return this.unsaved !== undefined;
  }

  private enqueue(data: Buffer): Promise<void> {
    this.queued++;
    const next = this.writing
      .then(() => this.write(data))
      .finally(() => {
        this.queued--;
      });
    // A failed write must not wedge later writes; the caller still sees this one's error.
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async write(data: Buffer): Promise<void> {
    try {
      await replaceFileDurable(this.io, this.file, data);
    } catch (err) {
      this.unsaved = data;
      this.episode.failed(err);
      void this.retryLater();
      throw new MetadataWriteError(this.file, err);
    }
    // Writes run in call order: this one supersedes every older failed one.
    this.unsaved = undefined;
    this.episode.succeeded();
  }

  private async retryLater(): Promise<void> {
    if (this.retrying) return;
    this.retrying = true;
    try {
      while (this.unsaved !== undefined) {
        await sleepMs(this.episode.nextDelayMs);
        // A write already on its way carries newer content: its outcome decides whether to retry again.
        if (this.queued > 0) continue;
        const data = this.unsaved;
        if (data === undefined) break;
        await this.enqueue(data).catch(() => undefined);
      }
    } finally {
      this.retrying = false;
    }
  }
}

/** RocketMQ's DataVersion: bumped on every metadata change so NameServers can skip unchanged registrations. */
export interface DataVersion {
  timestamp: number;
  counter: number;
}

export function nextDataVersion(v: DataVersion): DataVersion {
  return { timestamp: Date.now(), counter: v.counter + 1 };
}
