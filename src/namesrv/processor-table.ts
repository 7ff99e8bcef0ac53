/** All NameServer processors, keyed by request code (one file per concern under processors/). */
import { addBrokerRegistrationProcessors } from './processors/broker-registration.js';
import { addClusterAdminProcessors } from './processors/cluster-admin.js';
import type { NamesrvContext, ProcessorTable } from './processors/context.js';
import { addKvConfigProcessors } from './processors/kv-config.js';
import { addRouteQueryProcessors } from './processors/route-query.js';

export function createProcessorTable(ctx: NamesrvContext): ProcessorTable {
  const table: ProcessorTable = new Map();
  addBrokerRegistrationProcessors(table, ctx);
  addRouteQueryProcessors(table, ctx);
  addClusterAdminProcessors(table, ctx);
  addKvConfigProcessors(table, ctx);
  return table;
}
