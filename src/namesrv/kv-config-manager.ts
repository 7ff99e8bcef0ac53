/**
 * NameServer KV config (namespace → key → value), e.g. ORDER_TOPIC_CONFIG. Persisted, when a path is set, as
 * RocketMQ's KVConfigSerializeWrapper JSON `{"configTable":{ns:{k:v}}}`, written to a temp file then renamed.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseTolerantJson } from '../common/json.js';
import { getOrCreate } from './maps.js';

/** Namespace of per-topic order configs ("brokerName:queueNums;…"). */
export const orderTopicConfigNamespace = 'ORDER_TOPIC_CONFIG';

export class KvConfigManager {
  private readonly table = new Map<string, Map<string, string>>();
  private persisting: Promise<void> = Promise.resolve();

  /** `path` '' = memory only. */
  constructor(private readonly path: string) {}

  /** Loads the persisted table; a missing file is an empty table. */
  async load(): Promise<void> {
    if (this.path === '') return;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const root = parseTolerantJson(text) as { configTable?: Record<string, Record<string, unknown>> } | null;
    for (const [ns, entries] of Object.entries(root?.configTable ?? {})) {
      const map = new Map<string, string>();
      for (const [k, v] of Object.entries(entries ?? {})) map.set(k, String(v));
      this.table.set(ns, map);
    }
  }

  async put(namespace: string, key: string, value: string): Promise<void> {
    const ns = getOrCreate(this.table, namespace, () => new Map());
    ns.set(key, value);
    await this.persist();
  }

  get(namespace: string, key: string): string | undefined {
    return this.table.get(namespace)?.get(key);
  }

  async delete(namespace: string, key: string): Promise<void> {
    const ns = this.table.get(namespace);
    if (ns === undefined || !ns.delete(key)) return;
    if (ns.size === 0) this.table.delete(namespace);
    await this.persist();
  }

  /** All entries of a namespace, or undefined when it has none. */
  list(namespace: string): Record<string, string> | undefined {
    const ns = this.table.get(namespace);
    return ns === undefined ? undefined : Object.fromEntries(ns);
  }

  private persist(): Promise<void> {
    if (this.path === '') return Promise.resolve();
    const configTable: Record<string, Record<string, string>> = {};
    for (const [ns, map] of this.table) configTable[ns] = Object.fromEntries(map);
    const text = JSON.stringify({ configTable }, null, 2);
    // Writes are chained so an older snapshot never lands after a newer one.
    const next = this.persisting.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, this.path);
    });
    this.persisting = next.catch(() => undefined);
    return next;
  }
}
