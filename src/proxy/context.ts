/** What the gRPC handlers share: the broker's context (in-process, no remoting in between) and the proxy's own state. */
import type { Metadata } from '@grpc/grpc-js';
import type { BrokerContext } from '../broker/context.js';
import type { RecallOutcome } from '../broker/timer/timer-service.js';
import type { Logger } from '../common/log.js';
import type { ClientSessions } from './client/sessions.js';
import type { ReceiptRenewals } from './consume/renewals.js';
import type { Endpoints } from './proto.js';

export interface ProxyContext {
  readonly broker: BrokerContext;
  /** This endpoint as clients are told to reach it (QueryRoute, QueryAssignment): advertised host and gRPC port. */
  readonly endpoints: () => Endpoints;
  /** Clients known by their `x-mq-client-id`: settings from Telemetry, the open Telemetry stream, groups. */
  readonly sessions: ClientSessions;
  /** Messages received with auto_renew, kept invisible until acked (consume/renewals.ts). */
  readonly renewals: ReceiptRenewals;
  readonly log: Logger;
  /** Keeps a timer message from being delivered (the broker's timer service; RecallMessage). */
  readonly recallTimer: (topic: string, uniqKey: string, deliverMs: number, bornHost: string) => Promise<RecallOutcome>;
}

/** The header every call of Apache's 5.x clients carries. */
export const clientIdHeader = 'x-mq-client-id';

/** The caller's client id, '' when the header is missing. */
export function clientIdOf(metadata: Metadata): string {
  const v = metadata.get(clientIdHeader)[0];
  return typeof v === 'string' ? v : '';
}
