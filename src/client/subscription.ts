/**
 * Subscriptions as RocketMQ's FilterAPI builds them. Tags: "*" (or empty) takes everything, "a || b" takes the
 * listed tags; the broker filters on the tag hash (`codeSet`) and the client re-checks the exact tag because two
 * tags can share a hash. SQL92 (`{ sql }`, RocketMQ's MessageSelector.bySql): the broker evaluates it on each
 * message's properties (TAGS included) and the client takes what it is given.
 */

import { InvalidArgumentError } from '../common/errors.js';
import { javaStringHashCode } from '../common/hash.js';
import { ExpressionType, type SubscriptionData as WireSubscriptionData } from '../remoting/protocol/clients.js';

export { ExpressionType };

export const subAll = '*';

/**
 * What a consumer subscribes to a topic with (RocketMQ's MessageSelector): a tag expression ("*", "TagA || TagB",
 * or `{ tag }`), or a SQL92 condition on the message properties, e.g. `{ sql: "region = 'eu' AND price > 100" }`
 * (needs a broker with enablePropertyFilter, on in `tsrocket start`; a bad expression fails start() or
 * subscribe() with a SubscriptionRefusedError naming the position).
 */
export type MessageSelector = string | { readonly tag: string } | { readonly sql: string };

/** One topic's subscription as this client sends it in HEART_BEAT. */
export interface SubscriptionData extends WireSubscriptionData {
  expressionType: ExpressionType;
  classFilterMode: false;
}

/** Parses a tag expression; throws InvalidArgumentError when it names no tag (e.g. "||"). */
export function parseTagExpression(expression: string | undefined): string[] {
  const expr = (expression ?? '').trim();
  if (expr === '' || expr === subAll) return [];
  const tags: string[] = [];
  for (const part of expr.split('||')) {
    const tag = part.trim();
    if (tag !== '' && !tags.includes(tag)) tags.push(tag);
  }
  if (tags.length === 0) throw new InvalidArgumentError(`tag expression '${expression}' names no tag`);
  return tags;
}

export function buildSubscription(
  topic: string,
  selector: MessageSelector | undefined,
  nowMs = Date.now(),
): SubscriptionData {
  if (typeof selector === 'object' && selector !== null && 'sql' in selector) {
    const sql = selector.sql;
    if (typeof sql !== 'string' || sql.trim() === '')
      throw new InvalidArgumentError('a SQL92 selector needs an expression');
    return {
      topic,
      subString: sql,
      tagsSet: [],
      codeSet: [],
      subVersion: nowMs,
      expressionType: ExpressionType.sql92,
      classFilterMode: false,
    };
  }
  const expression = typeof selector === 'object' && selector !== null ? selector.tag : selector;
  const tagsSet = parseTagExpression(expression);
  return {
    topic,
    subString: tagsSet.length === 0 ? subAll : tagsSet.join(' || '),
    tagsSet,
    codeSet: tagsSet.map(javaStringHashCode),
    subVersion: nowMs,
    expressionType: ExpressionType.tag,
    classFilterMode: false,
  };
}

/** Client-side exact check: with a tag list, untagged messages and other tags are dropped (TAG only). */
export function tagMatches(sub: SubscriptionData, tags: string | undefined): boolean {
  if (sub.expressionType !== ExpressionType.tag || sub.tagsSet.length === 0) return true;
  return tags !== undefined && sub.tagsSet.includes(tags);
}
