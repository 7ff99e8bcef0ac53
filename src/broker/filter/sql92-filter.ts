/**
 * SQL92 subscriptions on the broker: compiled once when they arrive (heartbeat, CHECK_CLIENT_CONFIG, a pull
 * carrying its subscription) and kept by expression text, so pulls only look the result up; the store evaluates
 * the filter on each record's property bytes (RocketMQ's ExpressionMessageFilter.isMatchedByCommitLog), after the
 * filter bitmap (when the store keeps one) ruled out the records this subscription did not match.
 */
import type { PredicateCompiler } from '../../store/index.js';
import type { BitmapProbe, MessageFilter } from '../../store/types.js';
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

/**
 * The store-side filter: every ConsumeQueue entry passes the tag check, then the properties decide; `bitmap`
 * (the subscription's bits in the store's filter bitmap) lets the store skip records without reading them.
 */
export function sqlMessageFilter(filter: Sql92Filter, bitmap?: BitmapProbe): MessageFilter {
  return {
    isMatchedByTagsCode: () => true,
    isMatchedByProperties: (record, start, end) => filter.matchesProperties(record, start, end),
    bitmap,
  };
}

/**
 * How the store's filter bitmap compiles a subscription: a predicate over a record's encoded properties, as a
 * put holds them (string or bytes). Each call compiles its own filter (a filter's value slots are its own).
 */
export const bitmapPredicateOf: PredicateCompiler = (expression) => {
  const c = compileSql92(expression);
  if (!c.ok) return undefined;
  const f = c.filter;
  return (props) =>
    typeof props === 'string' ? f.matchesPropertiesString(props) : f.matchesProperties(props, 0, props.length);
};
