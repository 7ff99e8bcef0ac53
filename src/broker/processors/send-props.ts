/**
 * The three properties the send path needs (TAGS for the tag hash, KEYS and UNIQ_KEY for the index), read from
 * the encoded `key\u0001value\u0002…` string without building a Map. Same rules as decodeProperties: a later
 * duplicate wins, malformed pairs are skipped.
 */
import { Prop } from '../../common/properties.js';

export interface SendProps {
  tags: string | undefined;
  keys: string | undefined;
  uniqKey: string | undefined;
}

export function sendPropsOf(s: string): SendProps {
  const out: SendProps = { tags: undefined, keys: undefined, uniqKey: undefined };
  let start = 0;
  while (start < s.length) {
    let end = s.indexOf('\u0002', start);
    if (end < 0) end = s.length;
    const sep = s.indexOf('\u0001', start);
    if (sep > start && sep < end) {
      const nameLength = sep - start;
      if (nameLength === 4) {
        if (s.startsWith(Prop.tags, start)) out.tags = s.slice(sep + 1, end);
        else if (s.startsWith(Prop.keys, start)) out.keys = s.slice(sep + 1, end);
      } else if (nameLength === 8 && s.startsWith(Prop.uniqKey, start)) out.uniqKey = s.slice(sep + 1, end);
    }
    start = end + 1;
  }
  return out;
}
