/** Broker metadata files under `<storePathRootDir>/config/`: strict JSON, replaced atomically (tmp + rename). */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseTolerantJson } from '../common/json.js';

export class ConfigFile {
  private writing: Promise<void> = Promise.resolve();
  private tmpSeq = 0;

  constructor(readonly file: string) {}

  static under(storePathRootDir: string, name: string): ConfigFile {
    return new ConfigFile(path.join(storePathRootDir, 'config', name));
  }

  /** The parsed file, or undefined when it does not exist. Throws on unreadable or corrupt files. */
  async load(): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (text.trim() === '') return undefined;
    return parseTolerantJson(text);
  }

  /** Writes `value` as JSON; writes are serialized so the last call wins on disk. */
  save(value: unknown): Promise<void> {
    const text = JSON.stringify(value, null, 1);
    const next = this.writing.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp${process.pid}.${this.tmpSeq++}`;
      await writeFile(tmp, text);
      await rename(tmp, this.file);
    });
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
