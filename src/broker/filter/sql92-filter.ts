/**
 * SQL92 subscriptions on the broker: compiled once when they arrive (heartbeat, CHECK_CLIENT_CONFIG, a pull
 * carrying its subscription) and kept by expression text, so pulls only look the result up; the store evaluates
 * the filter on each record's property bytes (RocketMQ's ExpressionMessageFilter.isMatchedByCommitLog).
 */
import type { MessageFilter } from '../../store/types.js';
import { type Compiled, compileSql92, type Sql92Filter } from './sql92/sql-filter.js';

/** Distinct expressions kept compiled (RocketMQ's parse cache keeps 100; subscriptions of live groups stay). */
const compiledExpressionsMax = 4096;
const compiled = new Map<string, Compiled>();

/** The expression compiled, or its error; cached (least recently used dropped past the bound). */
export function compiledSql92(expression: string): Compiled {
  const hit = compiled.get(expression);
  if (hit !== undefined) {
    compiled.delete(expression);
    compiled.set(expression, hit);
    return hit;
  }
  const c = compileSql92(expression);
  if (compiled.size >= compiledExpressionsMax) compiled.delete(compiled.keys().next().value as string);
  compiled.set(expression, c);
  return c;
}

/** The store-side filter: every ConsumeQueue entry passes the tag check, then the properties decide. */
export function sqlMessageFilter(filter: Sql92Filter): MessageFilter {
  return {
    isMatchedByTagsCode: () => true,
    isMatchedByProperties: (record, start, end) => filter.matchesProperties(record, start, end),
  };
}
