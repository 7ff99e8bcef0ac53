/**
 * Subscription expression types (RocketMQ's ExpressionType): TAG (the tag hash) and SQL92 (properties), the
 * latter served only with enablePropertyFilter on; off, it is refused as RocketMQ refuses it, never served
 * unfiltered.
 */

import { ExpressionType } from '../../remoting/protocol/clients.js';

export { ExpressionType };

/** RocketMQ's ExpressionType.isTagType: absent, empty or "TAG". */
export function isTagType(type: string | undefined): boolean {
  return type === undefined || type === '' || type === ExpressionType.tag;
}

/** RocketMQ's remark (CHECK_CLIENT_CONFIG and PULL_MESSAGE answer it with SYSTEM_ERROR). */
export function filterTypeUnsupported(type: string): string {
  return `The broker does not support consumer to filter message by ${type}`;
}

/** A type RocketMQ's FilterFactory does not know (it answers SUBSCRIPTION_PARSE_FAILED). */
export function filterTypeUnknown(type: string): string {
  return `unknown subscription expression type ${JSON.stringify(type)} (TAG or SQL92)`;
}
