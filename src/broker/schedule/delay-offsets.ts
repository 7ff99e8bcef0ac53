/**
 * The delay service's progress: per level, the next SCHEDULE_TOPIC_XXXX queue offset to deliver, in
 * `config/delayOffset.json` as RocketMQ writes it (`{"offsetTable":{"<level>":<offset>}}`), replaced durably with a
 * `.bak` through metadata/config-file.ts.
 */
import { createLogger } from '../../common/log.js';
import type { StorageIO } from '../../store/io.js';
import { ConfigFile } from '../metadata/config-file.js';

const log = createLogger('broker.delay');

export const delayOffsetFileName = 'delayOffset.json';

export class DelayOffsetFile {
  private readonly file: ConfigFile;

  constructor(storePathRootDir: string, io?: StorageIO) {
    this.file = ConfigFile.under(storePathRootDir, delayOffsetFileName, io);
  }

  /** Level → next offset; a level missing or malformed in the file starts at 0 (redelivers, never skips). */
  async load(): Promise<Map<number, bigint>> {
    const out = new Map<number, bigint>();
    const value = (await this.file.load()) as { offsetTable?: unknown } | undefined;
    const table = value?.offsetTable;
    if (table === undefined) return out;
    if (table === null || typeof table !== 'object') {
      log.warn('delayOffset.json has no offsetTable object; every level starts at 0', { file: this.file.file });
      return out;
    }
    for (const [k, v] of Object.entries(table as Record<string, unknown>)) {
      const level = Number(k);
      if (Number.isInteger(level) && level > 0 && typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
        out.set(level, BigInt(v));
      } else {
        log.warn('delayOffset.json: entry ignored (that level starts at 0)', { level: k, offset: String(v) });
      }
    }
    return out;
  }

  save(offsets: ReadonlyMap<number, bigint>): Promise<void> {
    const offsetTable: Record<string, number> = {};
    for (const [level, offset] of offsets) offsetTable[String(level)] = Number(offset);
    return this.file.save({ offsetTable });
  }
}
