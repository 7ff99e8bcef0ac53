/**
 * Message model shared by store, broker and client. The stored/pulled record layout (CommitLog v1) is in
 * `record.ts`; this file holds the decoded shapes.
 */

/** SYSFLAG bits, as RocketMQ defines them (MessageSysFlag). */
export const SysFlag = {
  compressed: 0x1,
  multiTags: 0x2,
  transactionNotType: 0x0,
  transactionPreparedType: 0x4,
  transactionCommitType: 0x8,
  transactionRollbackType: 0xc,
  bornHostV6: 0x10,
  storeHostV6: 0x20,
  /** 5.x: set on a batch's inner messages that need unwrapping. */
  needUnwrap: 0x40,
  /** 5.x: one record holding a whole batch (BatchCQ topics). */
  innerBatch: 0x80,
  /** 5.x: which codec compressed the body (0x100 LZ4, 0x200 ZSTD, 0x300 ZLIB). */
  compressionTypeMask: 0x700,
  compressionZlib: 0x300,
} as const;

export function transactionTypeOf(sysFlag: number): number {
  return sysFlag & 0xc;
}

/** A message as stored: every field of the CommitLog v1 record, decoded. */
export interface MessageExt {
  topic: string;
  queueId: number;
  flag: number;
  queueOffset: bigint;
  commitLogOffset: bigint;
  storeSize: number;
  sysFlag: number;
  bodyCRC: number;
  bornTimestamp: bigint;
  /** "ip:port" */
  bornHost: string;
  storeTimestamp: bigint;
  /** "ip:port" */
  storeHost: string;
  reconsumeTimes: number;
  preparedTransactionOffset: bigint;
  /** Body exactly as stored (still compressed when sysFlag has `compressed`). */
  body: Buffer;
  properties: Map<string, string>;
  /** offsetMsgId: store host (ipv4 4 + port 4) + commitlog offset 8, 32 upper-case hex. */
  offsetMsgId: string;
}
