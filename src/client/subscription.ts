/**
 * Tag subscriptions as RocketMQ's FilterAPI builds them: "*" (or empty) takes everything, "a || b" takes the
 * listed tags. The broker filters on the tag hash (`codeSet`); the client re-checks the exact tag because two
 * tags can share a hash.
 */

import { InvalidArgumentError } from '../common/errors.js';
import { javaStringHashCode } from '../common/hash.js';
import type { SubscriptionData as WireSubscriptionData } from '../remoting/protocol/clients.js';

export const subAll = '*';

/** One topic's subscription as this client sends it in HEART_BEAT: tag expressions only. */
export interface SubscriptionData extends WireSubscriptionData {
  expressionType: 'TAG';
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

export function buildSubscription(topic: string, expression: string | undefined, nowMs = Date.now()): SubscriptionData {
  const tagsSet = parseTagExpression(expression);
  return {
    topic,
    subString: tagsSet.length === 0 ? subAll : tagsSet.join(' || '),
    tagsSet,
    codeSet: tagsSet.map(javaStringHashCode),
    subVersion: nowMs,
    expressionType: 'TAG',
    classFilterMode: false,
  };
}

/** Client-side exact check: with a tag list, untagged messages and other tags are dropped. */
export function tagMatches(sub: SubscriptionData, tags: string | undefined): boolean {
  if (sub.tagsSet.length === 0) return true;
  return tags !== undefined && sub.tagsSet.includes(tags);
}
