/**
 * The checkpoint file (4 KiB, RocketMQ's StoreCheckpoint positions): physicMsgTimestamp 0, logicsMsgTimestamp 8,
 * indexMsgTimestamp 16, masterFlushedOffset 24, confirmPhyOffset 32; tsrocket adds the commitlog offset up to
 * which ConsumeQueues and Index are durable (40) and a CRC-32 of bytes 0..47 (48).
 */
import { crc32 } from 'node:zlib';
import type { StorageIO } from './io.js';

export const checkpointBytes = 4096;

export interface Checkpoint {
  physicMsgTimestamp: number;
  logicsMsgTimestamp: number;
  indexMsgTimestamp: number;
  /** CommitLog bytes made durable. */
  flushedPhyOffset: number;
  /** ConsumeQueue + Index entries for records below this offset are durable. */
  logicsPhyOffset: number;
}

export async function readCheckpoint(io: StorageIO, file: string): Promise<Checkpoint | undefined> {
  const b = await io.readFile(file);
  if (b === undefined || b.length < 52) return undefined;
  if ((crc32(b.subarray(0, 48)) | 0) !== b.readInt32BE(48)) return undefined;
  return {
    physicMsgTimestamp: Number(b.readBigInt64BE(0)),
    logicsMsgTimestamp: Number(b.readBigInt64BE(8)),
    indexMsgTimestamp: Number(b.readBigInt64BE(16)),
    flushedPhyOffset: Number(b.readBigInt64BE(24)),
    logicsPhyOffset: Number(b.readBigInt64BE(40)),
  };
}

export async function writeCheckpoint(io: StorageIO, file: string, cp: Checkpoint): Promise<void> {
  const b = Buffer.alloc(checkpointBytes);
  b.writeBigInt64BE(BigInt(cp.physicMsgTimestamp), 0);
  b.writeBigInt64BE(BigInt(cp.logicsMsgTimestamp), 8);
  b.writeBigInt64BE(BigInt(cp.indexMsgTimestamp), 16);
  b.writeBigInt64BE(BigInt(cp.flushedPhyOffset), 24);
  b.writeBigInt64BE(BigInt(cp.flushedPhyOffset), 32);
  b.writeBigInt64BE(BigInt(cp.logicsPhyOffset), 40);
  b.writeInt32BE(crc32(b.subarray(0, 48)) | 0, 48);
  await io.writeFileDurable(file, b);
}
