/**
 * Broker metadata files under `<storePathRootDir>/config/`: strict JSON, replaced durably through the store's
 * StorageIO (temp file, fdatasync, previous copy kept as `.bak`, rename, folder fsync: store/durable-file.ts).
 */
import path from 'node:path';
import { parseTolerantJson } from '../../common/json.js';
import { createLogger } from '../../common/log.js';
import { loadFileWithBackup, replaceFileDurable } from '../../store/durable-file.js';
import { NodeStorageIO, type StorageIO } from '../../store/io.js';

const log = createLogger('broker-config');

export class ConfigFile {
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly io: StorageIO = new NodeStorageIO(),
  ) {}

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

  /** Writes `value` as JSON durably; writes are serialized so the last call wins on disk. Rejects on I/O errors. */
  save(value: unknown): Promise<void> {
    const data = Buffer.from(JSON.stringify(value, null, 1));
    const next = this.writing.then(() => replaceFileDurable(this.io, this.file, data));
    // A failed write must not wedge later writes; the caller still sees this one's error.
    this.writing = next.catch(() => undefined);
    return next;
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
