import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { javaStringHashCode } from '../../src/common/hash.js';
import { encodeProperties } from '../../src/common/properties.js';
import type { MessageInput } from '../../src/store/types.js';

export async function tempDir(prefix = 'tsrocket-store-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export function msg(
  topic: string,
  queueId: number,
  body: string | Buffer,
  opts: { tag?: string; keys?: string[]; uniqKey?: string } = {},
): MessageInput {
  const props: Record<string, string> = {};
  if (opts.tag !== undefined) props['TAGS'] = opts.tag;
  if (opts.keys !== undefined) props['KEYS'] = opts.keys.join(' ');
  if (opts.uniqKey !== undefined) props['UNIQ_KEY'] = opts.uniqKey;
  return {
    topic,
    queueId,
    flag: 0,
    body: typeof body === 'string' ? Buffer.from(body) : body,
    properties: encodeProperties(props),
    sysFlag: 0,
    bornTimestamp: BigInt(Date.now()),
    bornHost: '127.0.0.1:5555',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: opts.tag === undefined ? 0n : BigInt(javaStringHashCode(opts.tag)),
    keys: opts.keys,
    uniqKey: opts.uniqKey,
  };
}

/** Small segments and files so tests roll over often. */
export const smallStore = {
  mappedFileSizeCommitLog: 64 * 1024,
  mappedFileSizeConsumeQueue: 20 * 100,
  maxHashSlotNum: 64,
  maxIndexNum: 200,
  flushIntervalCommitLog: 50,
  flushIntervalConsumeQueue: 50,
} as const;
