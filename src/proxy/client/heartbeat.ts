/**
 * Heartbeat and NotifyClientTermination (RocketMQ's ClientActivity): a heartbeat refreshes the client's
 * registrations made from its Telemetry settings (so the idle scan keeps them); termination drops them.
 * A client that sent no settings yet is UNRECOGNIZED_CLIENT_TYPE, as in RocketMQ.
 */
import type { Metadata } from '@grpc/grpc-js';
import { clientIdOf, type ProxyContext } from '../context.js';
import { type ClientType, Code, type Resource, type Status, status } from '../proto.js';
import { checkGroupResource } from '../resources.js';
import { registerSession, unregisterSession } from './registration.js';

export interface HeartbeatRequest {
  group?: Resource | null;
  clientType: ClientType;
}

export interface StatusResponse {
  status: Status;
}

export async function heartbeat(
  ctx: ProxyContext,
  req: HeartbeatRequest,
  metadata: Metadata,
  peer: string,
): Promise<StatusResponse> {
  const clientId = clientIdOf(metadata);
  if (clientId === '') return { status: status(Code.CLIENT_ID_REQUIRED, 'x-mq-client-id header is required') };
  const known = ctx.sessions.get(clientId);
  const settings = known?.settings;
  if (known === undefined || settings === undefined) {
    return { status: status(Code.UNRECOGNIZED_CLIENT_TYPE, 'cannot find client settings for this client') };
  }
  if (settings.subscription != null) {
    const bad = checkGroupResource(req.group);
    if (bad !== undefined) return { status: bad };
  }
  const session = ctx.sessions.touch(clientId, peer);
  const refused = registerSession(ctx, session, settings);
  return { status: refused ?? status(Code.OK) };
}

export async function notifyClientTermination(
  ctx: ProxyContext,
  _req: { group?: Resource | null },
  metadata: Metadata,
): Promise<StatusResponse> {
  const clientId = clientIdOf(metadata);
  if (clientId === '') return { status: status(Code.CLIENT_ID_REQUIRED, 'x-mq-client-id header is required') };
  const session = ctx.sessions.get(clientId);
  if (session === undefined || session.settings === undefined) {
    return { status: status(Code.UNRECOGNIZED_CLIENT_TYPE, 'cannot find client settings for this client') };
  }
  unregisterSession(ctx, session);
  // The client ends its Telemetry stream itself: ended from here, it would open a new one.
  ctx.sessions.delete(clientId);
  return { status: status(Code.OK) };
}
