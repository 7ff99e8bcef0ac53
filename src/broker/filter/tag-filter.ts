/** Broker-side tag filtering (RocketMQ's ExpressionMessageFilter for TAG expressions): by ConsumeQueue tag hash. */
import { javaStringHashCode } from '../../common/hash.js';
import type { MessageFilter } from '../../store/types.js';

export const subAll = '*';

/** A filter for a tag expression (`*`, `TagA || TagB`); undefined means "everything". */
export function tagFilterOf(subString: string | undefined): MessageFilter | undefined {
  const codes = tagCodesOf(subString);
  if (codes === undefined) return undefined;
  return { isMatchedByTagsCode: (tagsCode) => codes.has(Number(BigInt.asIntN(32, tagsCode))) };
}

/** Filter from a heartbeat's codeSet (already hashed by the client). */
export function codeSetFilterOf(subString: string, codeSet: readonly number[]): MessageFilter | undefined {
  if (isSubAll(subString)) return undefined;
  const codes = new Set(codeSet.map((c) => Number(c) | 0));
  if (codes.size === 0) return tagFilterOf(subString);
  return { isMatchedByTagsCode: (tagsCode) => codes.has(Number(BigInt.asIntN(32, tagsCode))) };
}

function isSubAll(subString: string | undefined): boolean {
  if (subString === undefined) return true;
  const s = subString.trim();
  return s === '' || s === subAll || s === 'null';
}

function tagCodesOf(subString: string | undefined): Set<number> | undefined {
  if (isSubAll(subString)) return undefined;
  const codes = new Set<number>();
  for (const t of (subString as string).split('||')) {
    const tag = t.trim();
    if (tag !== '') codes.add(javaStringHashCode(tag));
  }
  return codes.size === 0 ? undefined : codes;
}

/** The ConsumeQueue tag hash of a message's TAGS: the store's rebuild rule and the send path share it. */
export { tagsCodeOf } from '../../common/hash.js';
