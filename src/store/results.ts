/** Result values shared by the file and memory stores. */
import type { GetResult, PutResult } from './types.js';

/** A put that wrote nothing, with the status and the reason in words. */
export function refused(status: PutResult['status'], remark: string): PutResult {
  return {
    status,
    remark,
    wroteOffset: -1n,
    wroteBytes: 0,
    queueOffset: -1n,
    msgNum: 0,
    storeTimestamp: 0n,
    offsetMsgIdsText: '',
  };
}

/** The offsetMsgId of each message a put wrote, in order. */
export function offsetMsgIdsOf(r: PutResult): string[] {
  if (r.offsetMsgIdsText === '') return [];
  return r.msgNum === 1 ? [r.offsetMsgIdsText] : r.offsetMsgIdsText.split(',');
}

/** A read that found nothing to return. */
export function emptyGet(status: GetResult['status'], next: bigint, min: bigint, max: bigint): GetResult {
  return {
    status,
    nextBeginOffset: next,
    minOffset: min,
    maxOffset: max,
    records: [],
    queueOffsets: [],
    bufferTotalBytes: 0,
    suggestPullingFromSlave: false,
  };
}
