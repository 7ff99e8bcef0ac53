/** The three shapes of gRPC handler in the service table, and the answer of an RPC not built yet. */
import type { Metadata, ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';
import type { ProxyContext } from './context.js';
import { Code, type Status, status } from './proto.js';

/** Every response message of MessagingService has `status` as field 1. */
export interface WithStatus {
  status: Status | null;
}

/**
 * A unary RPC: request in, response out; expected failures are a status in the response, never a throw.
 * `peer` is the caller's "ip:port" (as grpc-js reports it).
 */
export type UnaryHandler<Req = never, Res extends WithStatus = WithStatus> = (
  ctx: ProxyContext,
  request: Req,
  metadata: Metadata,
  peer: string,
) => Promise<Res>;

/** A server-stream RPC (ReceiveMessage): writes its responses, then ends the call. */
export type ServerStreamHandler<Req = never, Res = unknown> = (
  ctx: ProxyContext,
  call: ServerWritableStream<Req, Res>,
) => Promise<void>;

/** A bidirectional-stream RPC (Telemetry): owns the call until either side ends it. */
export type BidiHandler<Req = never, Res = unknown> = (ctx: ProxyContext, call: ServerDuplexStream<Req, Res>) => void;

export type RpcEntry =
  | { readonly kind: 'unary'; readonly handle: UnaryHandler<never, WithStatus> }
  | { readonly kind: 'serverStream'; readonly handle: ServerStreamHandler<never, unknown> }
  | { readonly kind: 'bidi'; readonly handle: BidiHandler<never, unknown> };

export function unary<Req, Res extends WithStatus>(handle: UnaryHandler<Req, Res>): RpcEntry {
  return { kind: 'unary', handle: handle as UnaryHandler<never, WithStatus> };
}

export function serverStream<Req, Res>(handle: ServerStreamHandler<Req, Res>): RpcEntry {
  return { kind: 'serverStream', handle: handle as unknown as ServerStreamHandler<never, unknown> };
}

export function bidi<Req, Res>(handle: BidiHandler<Req, Res>): RpcEntry {
  return { kind: 'bidi', handle: handle as unknown as BidiHandler<never, unknown> };
}

export function notBuiltStatus(rpc: string): Status {
  return status(Code.NOT_IMPLEMENTED, `${rpc} is not built yet`);
}

/** A unary RPC not built yet: answered at once with NOT_IMPLEMENTED, never left hanging. */
export function notBuiltUnary(rpc: string): RpcEntry {
  return unary(async () => ({ status: notBuiltStatus(rpc) }));
}

/** A server-stream RPC not built yet: one NOT_IMPLEMENTED status, then the end of the stream. */
export function notBuiltStream(rpc: string): RpcEntry {
  return serverStream(async (_ctx, call) => {
    call.write({ status: notBuiltStatus(rpc) });
    call.end();
  });
}
