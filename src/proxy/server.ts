/**
 * GrpcProxy: RocketMQ 5's gRPC MessagingService on `grpcServerPort`, served from the broker process on the
 * broker's own context (RocketMQ's "local" proxy mode: no remoting hop in between). Started by the broker as one
 * service when `enableGrpc`; each RPC's handler is one line of service-table.ts.
 */
import {
  type handleBidiStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  Server,
  ServerCredentials,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { BrokerContext } from '../broker/context.js';
import { createLogger, type Logger } from '../common/log.js';
import { PeriodicTask } from '../common/periodic-task.js';
import { unregisterSession } from './client/registration.js';
import { ClientSessions } from './client/sessions.js';
import { ReceiptRenewals, renewalDefaults } from './consume/renewals.js';
import type { ProxyContext } from './context.js';
import type { RpcEntry, WithStatus } from './handler.js';
import { Code, type Endpoints, messagingServiceDefinition, status } from './proto.js';
import { serviceTable } from './service-table.js';

/** Largest gRPC message accepted (bytes): a batch of bodies up to maxMessageSize each, like a remoting frame's cap. */
export const inboundMessageBytesMax = 16 * 1024 * 1024;
const shutdownGraceMs = 1000;
/** How often sessions of vanished clients (no Telemetry stream, silent past channelExpiredTimeout) are dropped. */
const sessionSweepMs = 30_000;

export interface GrpcProxyOptions {
  host: string;
  /** 0 binds an ephemeral port, readable as `port` after start. */
  port: number;
  /** The host clients are told to reach (QueryRoute): the broker's advertised address. */
  advertisedHost: () => string;
  broker: BrokerContext;
  /** The broker's timer recall (TimerService.recall). */
  recallTimer: ProxyContext['recallTimer'];
  log?: Logger;
}

export class GrpcProxy {
  readonly sessions = new ClientSessions();
  private readonly server = new Server({
    'grpc.max_receive_message_length': inboundMessageBytesMax,
    'grpc.max_send_message_length': inboundMessageBytesMax,
  });
  private boundPort = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  readonly ctx: ProxyContext;
  private readonly renewTask: PeriodicTask;

  constructor(private readonly options: GrpcProxyOptions) {
    this.log = options.log ?? createLogger('proxy');
    const broker = options.broker;
    const renewals = new ReceiptRenewals(
      (g, t, h, ms) => broker.pop.changeInvisible(g, t, h, ms),
      renewalDefaults,
      Date.now,
      (clientId) => this.sessions.get(clientId) !== undefined,
    );
    this.renewTask = new PeriodicTask({
      name: 'receipt-renewal',
      periodMs: renewals.opts.scanPeriodMs,
      run: () => renewals.scan(),
      log: this.log,
    });
    this.ctx = {
      broker: options.broker,
      endpoints: () => this.endpoints(),
      sessions: this.sessions,
      renewals,
      log: this.log,
      recallTimer: options.recallTimer,
    };
    this.server.addService(messagingServiceDefinition(), this.implementation());
  }

  /** The bound port (after start). */
  get port(): number {
    return this.boundPort;
  }

  endpoints(): Endpoints {
    return { scheme: 'IPv4', addresses: [{ host: this.options.advertisedHost(), port: this.boundPort }] };
  }

  start(): Promise<void> {
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
        if (err !== null) {
          reject(new Error(`gRPC endpoint cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
          return;
        }
        this.boundPort = bound;
        this.renewTask.start();
        this.sweepTimer = setInterval(() => this.sweepSessions(), sessionSweepMs);
        this.sweepTimer.unref();
        this.log.info('gRPC endpoint listening', { port: bound, host });
        resolve();
      });
    });
  }

  /** Ends the Telemetry streams, lets in-flight calls finish for a moment, then cancels the rest. */
  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    for (const s of this.sessions.values()) s.telemetry?.end();
    await this.renewTask.stop();
    this.ctx.renewals.clear();
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, shutdownGraceMs);
      force.unref();
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private sweepSessions(): void {
    const gone = this.sessions.sweep(Date.now(), this.options.broker.config.channelExpiredTimeout);
    for (const s of gone) unregisterSession(this.ctx, s);
  }

  private implementation(): UntypedServiceImplementation {
    const impl: UntypedServiceImplementation = {};
    for (const [rpc, entry] of Object.entries(serviceTable)) impl[rpc] = this.wrap(rpc, entry);
    return impl;
  }

  private wrap(rpc: string, entry: RpcEntry): UntypedServiceImplementation[string] {
    const ctx = this.ctx;
    const failed = (err: unknown) => {
      this.log.error('gRPC handler failed', { rpc, err });
      return status(Code.INTERNAL_ERROR, `${rpc} failed: ${err instanceof Error ? err.message : String(err)}`);
    };
    switch (entry.kind) {
      case 'unary': {
        const h: handleUnaryCall<unknown, WithStatus> = (call, callback) => {
          entry.handle(ctx, call.request as never, call.metadata, call.getPeer()).then(
            (res) => callback(null, res),
            (err: unknown) => callback(null, { status: failed(err) }),
          );
        };
        return h;
      }
      case 'serverStream': {
        const h: handleServerStreamingCall<unknown, unknown> = (call) => {
          entry.handle(ctx, call as never).catch((err: unknown) => {
            if (call.writable) {
              call.write({ status: failed(err) });
              call.end();
            }
          });
        };
        return h;
      }
      case 'bidi': {
        const h: handleBidiStreamingCall<unknown, unknown> = (call) => {
          try {
            entry.handle(ctx, call as never);
          } catch (err) {
            call.write({ status: failed(err) });
            call.end();
          }
        };
        return h;
      }
    }
  }
}
