/** What the crash test's parent and child agree on: store settings and message content by sequence number. */
import { encodeProperties } from '../../src/common/properties.js';
import type { StoreConfig } from '../../src/store/config.js';
import type { MessageInput } from '../../src/store/types.js';

export const crashTopic = 'CrashTopic';
export const crashQueues = 4;

export function crashStoreConfig(dir: string): Partial<StoreConfig> {
  return {
    storePathRootDir: dir,
    mappedFileSizeCommitLog: 256 * 1024,
    mappedFileSizeConsumeQueue: 20 * 500,
    maxHashSlotNum: 1024,
    maxIndexNum: 4096,
    flushIntervalCommitLog: 100,
    flushIntervalConsumeQueue: 100,
  };
}

export function crashBody(seq: number): Buffer {
  return Buffer.from(`${seq}:`.padEnd(100 + (seq % 400), String.fromCharCode(97 + (seq % 26))));
}

export function crashMessage(seq: number): MessageInput {
  return {
    topic: crashTopic,
    queueId: seq % crashQueues,
    flag: 0,
    body: crashBody(seq),
    properties: encodeProperties({ KEYS: `k${seq}`, SEQ: String(seq) }),
    sysFlag: 0,
    bornTimestamp: BigInt(Date.now()),
    bornHost: '127.0.0.1:1',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: 0n,
    keys: [`k${seq}`],
  };
}
