/**
 * SEND_BATCH_MESSAGE body (RocketMQ's MessageDecoder.encodeMessages): messages back to back, each
 *   TOTALSIZE 4 | MAGIC 4 (0) | BODYCRC 4 (0) | FLAG 4 | BODYLEN 4 | BODY | PROPLEN 2 | PROPERTIES (utf-8)
 */
export interface BatchItem {
  flag: number;
  body: Buffer;
  /** The encoded properties' utf-8 bytes (a slice of the batch body when decoded). */
  properties: string | Buffer;
}

export const batchMessagesMax = 4096;
const itemFixedBytes = 4 + 4 + 4 + 4 + 4 + 2;

/** Decoded items, or an error message naming the bad item. Bodies and properties are slices of `buf` (no copy). */
export function decodeBatchBody(buf: Buffer): BatchItem[] | string {
  const out: BatchItem[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (out.length >= batchMessagesMax) return `batch holds more than ${batchMessagesMax} messages`;
    if (buf.length - pos < itemFixedBytes) return `batch message ${out.length} is truncated`;
    const total = buf.readInt32BE(pos);
    if (total < itemFixedBytes || pos + total > buf.length) return `batch message ${out.length} has bad size ${total}`;
    const flag = buf.readInt32BE(pos + 12);
    const bodyLen = buf.readInt32BE(pos + 16);
    const bodyAt = pos + 20;
    if (bodyLen < 0 || bodyAt + bodyLen + 2 > pos + total) return `batch message ${out.length} has bad body length`;
    const propLen = buf.readUInt16BE(bodyAt + bodyLen);
    const propAt = bodyAt + bodyLen + 2;
    if (propAt + propLen !== pos + total) return `batch message ${out.length} has bad properties length`;
    out.push({
      flag,
      body: buf.subarray(bodyAt, bodyAt + bodyLen),
      properties: buf.subarray(propAt, propAt + propLen),
    });
    pos += total;
  }
  return out;
}
