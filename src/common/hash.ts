/**
 * Java's `String.hashCode` over UTF-16 code units, as a signed 32-bit int.
 * RocketMQ stores it as the tag hash in ConsumeQueue entries and clients send it in `codeSet`.
 */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) {
    h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  }
  return h;
}

/** ConsumeQueue tag hash of a message: the hash of its TAGS property, 0 when it has none (the one rule). */
export function tagsCodeOf(tags: string | undefined): bigint {
  return tags === undefined || tags === '' ? 0n : BigInt(javaStringHashCode(tags));
}
