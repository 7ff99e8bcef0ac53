/**
 * The gRPC clients this endpoint knows, by client id: the Settings each sent over Telemetry (what its handlers
 * need: client type, group, subscriptions), its open Telemetry stream (how the server reaches it) and the
 * channel it is registered with in the broker's client registry.
 */
import type { ClientType, Settings, TelemetryCommand } from '../proto.js';

/** The server side of a client's Telemetry stream: what the proxy may push to it. */
export interface TelemetryChannel {
  write(cmd: TelemetryCommand): boolean;
  end(): void;
  readonly closed: boolean;
}

/** What the registry holds for a session: a RemotingConnection (client/grpc-channel.ts). */
export interface RegisteredChannel {
  readonly closed: boolean;
  close(): void;
}

export interface ClientSession {
  readonly clientId: string;
  clientType: ClientType;
  /** The last Settings the client sent (undefined before its first). */
  settings: Settings | undefined;
  telemetry: TelemetryChannel | undefined;
  /** The client's "ip:port" as last seen. */
  peer: string;
  lastSeenMs: number;
  /** Its channel in the broker's client registry, once registered (Telemetry settings or Heartbeat). */
  channel: RegisteredChannel | undefined;
  /** Producer groups it is registered in (RocketMQ's proxy: the topics it publishes to). */
  readonly producerGroups: Set<string>;
  /** The consumer group it is registered in. */
  consumerGroup: string | undefined;
}

export class ClientSessions {
  private readonly byId = new Map<string, ClientSession>();

  get(clientId: string): ClientSession | undefined {
    return this.byId.get(clientId);
  }

  /** The session of `clientId`, created on first sight; its last-seen time refreshed. */
  touch(clientId: string, peer: string, nowMs = Date.now()): ClientSession {
    let s = this.byId.get(clientId);
    if (s === undefined) {
      s = {
        clientId,
        clientType: 'CLIENT_TYPE_UNSPECIFIED',
        settings: undefined,
        telemetry: undefined,
        peer,
        lastSeenMs: nowMs,
        channel: undefined,
        producerGroups: new Set(),
        consumerGroup: undefined,
      };
      this.byId.set(clientId, s);
    }
    s.lastSeenMs = nowMs;
    s.peer = peer;
    return s;
  }

  /** Forgets sessions with no Telemetry stream not seen for `expiredMs`; returns them (to unregister). */
  sweep(nowMs: number, expiredMs: number): ClientSession[] {
    const gone: ClientSession[] = [];
    for (const [id, s] of this.byId) {
      if ((s.telemetry === undefined || s.telemetry.closed) && nowMs - s.lastSeenMs > expiredMs) {
        this.byId.delete(id);
        gone.push(s);
      }
    }
    return gone;
  }

  delete(clientId: string): void {
    this.byId.delete(clientId);
  }

  get size(): number {
    return this.byId.size;
  }

  values(): IterableIterator<ClientSession> {
    return this.byId.values();
  }
}
