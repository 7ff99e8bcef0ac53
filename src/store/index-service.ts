/** The set of IndexFiles (`index/<yyyyMMddHHmmssSSS>`): puts `topic#key` / `topic#uniqKey`, rolls when full. */

import { javaStringHashCode } from '../common/hash.js';
import { BoundedMemo } from '../common/memo.js';
import { Int32Scratch } from '../common/pooled-arrays.js';
import { type BatchDispatch, type DispatchRequest, type KeySink, PlainItem, plainItemFields } from './dispatch.js';
import { IndexFile, indexKeyHashAfter, indexKeyHashAfterBytes, indexKeyHashJoined } from './index-file.js';
import type { Clock, StorageIO } from './io.js';
import { joinPath } from './io.js';
import { Pause, retryDelayMsMax, retryDelayMsMin } from './retry-episode.js';

export class IndexService implements KeySink {
  private files: IndexFile[] = [];
  private rolling: Promise<void> | undefined;
  private backlog: DispatchRequest[] = [];
  /** Back-off before the next roll after a failed one (EMFILE, ENOSPC): puts queue in the backlog meanwhile. */
  private rollDelayMs = 0;
  private readonly pause = new Pause();
  private closing = false;
  /** javaStringHashCode(`${topic}#`) by topic. */
  private readonly topicHashes = new BoundedMemo(4096, (topic: string) => javaStringHashCode(`${topic}#`));

  constructor(
    private readonly io: StorageIO,
    private readonly dir: string,
    private readonly slotNum: number,
    private readonly indexNum: number,
    private readonly clock: Clock,
    private readonly onError: (reason: string) => void,
  ) {}

  async load(): Promise<number> {
    await this.io.mkdirp(this.dir);
    const names = (await this.io.readdir(this.dir)).filter((n) => /^\d{17}$/.test(n)).sort();
    for (const name of names) {
      this.files.push(await IndexFile.load(this.io, joinPath(this.dir, name), name, this.slotNum, this.indexNum));
    }
    const last = this.files[this.files.length - 1];
    if (last !== undefined && !last.isFull()) await last.openForWrite();
    return this.files.length;
  }

  /** Index entries up to this commitlog offset exist (header of the newest file). */
  endPhyOffset(): number {
    return this.files[this.files.length - 1]?.endPhyOffset ?? 0;
  }

  put(d: DispatchRequest): void {
    if (this.closing) return;
    if (this.rolling !== undefined) {
      this.backlog.push(d);
      return;
    }
    const last = this.files[this.files.length - 1];
    if (last === undefined || last.isFull() || !this.putAll(last, d)) {
      this.backlog.push(d);
      this.roll(last);
    }
  }

  /** A plain batch: its entries go into the newest file in one loop when they all fit; else record by record. */
  putBatch(b: BatchDispatch): void {
    if (this.closing) return;
    const last = this.files[this.files.length - 1];
    const items = b.batch.items;
    const keys = b.batch.keys;
    let need = 0;
    for (let i = 0; i < b.count; i++) {
      const at = items[i * plainItemFields + PlainItem.uniqAt] as number;
      if (at >= 0) need++;
      const k = keys?.[i];
      if (k !== undefined) need += k.length;
    }
    if (this.rolling !== undefined || last === undefined || last.isFull() || last.indexCount + need > last.indexNum) {
      for (let i = 0; i < b.count; i++) this.put(b.requestAt(i));
      return;
    }
    const prefix = this.topicHashes.get(b.topic);
    const ts = b.storeTimestamp;
    // The UNIQ_KEYs' hashes first (-1: none; a key hash is ≥ 0), and their slots read together (touchSlots).
    const hashes = uniqHashesScratch.for(b.count);
    for (let i = 0; i < b.count; i++) {
      const at = items[i * plainItemFields + PlainItem.uniqAt] as number;
      const end = items[i * plainItemFields + PlainItem.uniqEnd] as number;
      hashes[i] =
        at >= 0 && end > at
          ? indexKeyHashJoined(prefix, items[i * plainItemFields + PlainItem.uniqHash] as number, end - at)
          : -1;
    }
    last.touchSlots(hashes, b.count);
    if (keys === undefined) {
      last.putHashes(hashes, b.phyOffsets, b.count, ts);
      return;
    }
    for (let i = 0; i < b.count; i++) {
      const phy = b.phyOffsets[i] as number;
      const h = hashes[i] as number;
      if (h >= 0) last.putHash(h, phy, ts);
      const k = keys?.[i];
      if (k !== undefined) for (const key of k) if (key !== '') last.putHash(indexKeyHashAfter(prefix, key), phy, ts);
    }
  }

  private putAll(file: IndexFile, d: DispatchRequest): boolean {
    const bytes = d.uniqKey === undefined ? d.uniqKeyBytes : undefined;
    const need = (d.keys?.length ?? 0) + (d.uniqKey !== undefined || bytes !== undefined ? 1 : 0);
    if (file.indexCount + need > file.indexNum) return false;
    // The key is `topic#key`; the topic part's hash is computed once per topic, not once per message.
    const prefix = this.topicHashes.get(d.topic);
    if (d.uniqKey !== undefined && d.uniqKey !== '')
      file.putHash(indexKeyHashAfter(prefix, d.uniqKey), d.phyOffset, d.storeTimestamp);
    else if (bytes !== undefined && (d.uniqKeyEnd ?? 0) > (d.uniqKeyAt ?? 0)) {
      const at = d.uniqKeyAt ?? 0;
      const end = d.uniqKeyEnd ?? 0;
      const hashed = d.uniqKeyHash;
      const keyHash =
        hashed === undefined
          ? indexKeyHashAfterBytes(prefix, bytes, at, end)
          : indexKeyHashJoined(prefix, hashed, end - at);
      file.putHash(keyHash, d.phyOffset, d.storeTimestamp);
    }
    const keys = d.keys;
    if (keys !== undefined)
      // not `d.keys ?? []`: that builds an empty array per record
      for (const k of keys) if (k !== '') file.putHash(indexKeyHashAfter(prefix, k), d.phyOffset, d.storeTimestamp);
    return true;
  }

  private roll(prev: IndexFile | undefined): void {
    this.rolling = (async () => {
      if (this.rollDelayMs > 0 && !this.closing) await this.pause.sleep(this.rollDelayMs);
      if (this.closing) throw new Error('index service is closing');
      await prev?.flush();
      let ms = this.clock.now();
      let name = timeName(ms);
      while (this.files.some((f) => f.name === name)) name = timeName(++ms);
      const f = await IndexFile.create(
        this.io,
        joinPath(this.dir, name),
        name,
        this.slotNum,
        this.indexNum,
        prev?.endPhyOffset ?? 0,
        prev?.endTimestamp ?? 0,
      );
      this.files.push(f);
      this.rollDelayMs = 0;
    })()
      .catch((err: Error) => {
        this.rollDelayMs = Math.min(Math.max(retryDelayMsMin, this.rollDelayMs * 2), retryDelayMsMax);
        this.onError(`index file roll failed: ${err.message}`);
      })
      .finally(() => {
        this.rolling = undefined;
        if (this.closing) return;
        const queued = this.backlog;
        this.backlog = [];
        for (const d of queued) this.put(d);
      });
  }

  /** True while rolls fail and the next one waits out its back-off. */
  private get rollFailing(): boolean {
    return this.rollDelayMs > 0;
  }

  /** Makes the newest files durable; throws while rolls keep failing (keys wait in the backlog meanwhile). */
  async flush(): Promise<void> {
    if (this.rolling !== undefined && !this.rollFailing) await this.rolling;
    if (this.rollFailing) {
      throw new Error(`cannot roll to a new index file yet (retrying); ${this.backlog.length} keys are waiting`);
    }
    for (const f of this.files.slice(-2)) await f.flush();
  }

  /** Commitlog offsets for `topic#key` stored within [begin, end], newest first. */
  async query(topic: string, key: string, maxNum: number, begin: number, end: number): Promise<number[]> {
    if (this.rolling !== undefined && !this.rollFailing) await this.rolling;
    const out: number[] = [];
    for (let i = this.files.length - 1; i >= 0 && out.length < maxNum; i--) {
      const f = this.files[i] as IndexFile;
      if (f.isTimeMatched(begin, end)) await f.select(`${topic}#${key}`, maxNum, begin, end, out);
    }
    return [...new Set(out)];
  }

  /** Deletes index files whose newest entry is below the log's min offset (never the newest file). */
  async deleteBelow(minPhy: number): Promise<number> {
    let n = 0;
    while (this.files.length > 1 && (this.files[0] as IndexFile).endPhyOffset < minPhy) {
      const f = this.files.shift() as IndexFile;
      await f.close();
      await this.io.unlink(f.path);
      n++;
    }
    return n;
  }

  /** Deletes every IndexFile (the index is then rebuilt from the log start by recovery's replay). */
  async reset(): Promise<void> {
    for (const f of this.files) {
      await f.close();
      await this.io.unlink(f.path);
    }
    this.files = [];
  }

  /** The newest file's name and header offsets (recovery checks them against the log). */
  newest(): { name: string; beginPhyOffset: number; endPhyOffset: number; indexCount: number } | undefined {
    return this.files[this.files.length - 1];
  }

  fileCount(): number {
    return this.files.length;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.pause.wake();
    try {
      await this.flush();
    } finally {
      for (const f of this.files) await f.close();
      this.files = [];
    }
  }
}

function timeName(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}${p(d.getMilliseconds(), 3)}`;
}

/** A plain batch's UNIQ_KEY hashes (filled and read within one synchronous putBatch): no array per batch. */
const uniqHashesScratch = new Int32Scratch(256);
