/**
 * Subscription expression types (RocketMQ's ExpressionType). Only TAG is served; any other type (SQL92) is
 * refused as RocketMQ refuses it with enablePropertyFilter off, rather than served unfiltered.
 */

/** RocketMQ's ExpressionType.isTagType: absent, empty or "TAG". */
export function isTagType(type: string | undefined): boolean {
  return type === undefined || type === '' || type === 'TAG';
}

/** RocketMQ's remark (CHECK_CLIENT_CONFIG and PULL_MESSAGE answer it with SYSTEM_ERROR). */
export function filterTypeUnsupported(type: string): string {
  return `The broker does not support consumer to filter message by ${type}`;
}
