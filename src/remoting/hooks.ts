/**
 * Request hooks on the server (RocketMQ's RPCHook, server side): the one place for concerns that wrap every
 * request — ACL checks, per-code latency metrics, load shedding. Registered on a RemotingServer with addHook;
 * with none registered dispatch takes its plain path (no timing, closure or array per request).
 */
import type { RemotingCommand } from './command.js';
import type { RemotingConnection } from './connection.js';

export interface RequestHook {
  /** Names the hook in logs. */
  readonly name: string;
  /**
   * Runs before the processor, in registration order. Returning a response answers the request with it instead
   * of the processor (e.g. NO_PERMISSION, SYSTEM_BUSY) and skips later before-hooks; a thrown TsRocketError
   * becomes a response with its code, as from a processor. Synchronous: it is on the hot path.
   */
  before?(req: RemotingCommand, conn: RemotingConnection): RemotingCommand | undefined;
  /**
   * Runs once the answer is known, for every request a processor exists for, even when a before-hook answered.
   * `resp` is undefined when the processor answers later on its own (a held pull); `elapsedMs` runs from before
   * the first before-hook. A throw is logged and ignored.
   */
  after?(req: RemotingCommand, resp: RemotingCommand | undefined, elapsedMs: number, conn: RemotingConnection): void;
}
