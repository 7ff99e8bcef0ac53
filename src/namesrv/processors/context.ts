/**
 * What every NameServer processor sees. Processors are plain functions keyed by request code in one table
 * (processor-table.ts); they get this context, the request and the connection it arrived on.
 */

import type { Logger } from '../../common/log.js';
import type { RemotingCommand } from '../../remoting/command.js';
import type { NamesrvConfig } from '../config.js';
import type { KvConfigManager } from '../kv-config-manager.js';
import type { RouteInfoManager } from '../route-info-manager.js';

export interface NamesrvContext {
  readonly config: NamesrvConfig;
  readonly routes: RouteInfoManager;
  readonly kv: KvConfigManager;
  readonly log: Logger;
}

/** The part of a RemotingConnection processors use; the connection object also keys broker liveness. */
export interface ProcessorConnection {
  readonly remoteAddress: string;
}

/** One request code's handler; the table in processor-table.ts binds it to the NameServer's context. */
export type NamesrvProcessor = (
  ctx: NamesrvContext,
  req: RemotingCommand,
  conn: ProcessorConnection,
) => RemotingCommand | undefined | Promise<RemotingCommand | undefined>;
