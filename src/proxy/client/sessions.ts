/**
 * The gRPC clients this endpoint knows, by client id: the Settings each sent over Telemetry (what its handlers
 * need: client type, group, subscriptions) and its open Telemetry stream (how the server reaches it).
 */
import type { ClientType, Settings, TelemetryCommand } from '../proto.js';

/** The server side of a client's Telemetry stream: what the proxy may push to it. */
export interface TelemetryChannel {
  write(cmd: TelemetryCommand): boolean;
  end(): void;
  readonly closed: boolean;
}

export interface ClientSession {
  readonly clientId: string;
  clientType: ClientType;
  /** The last Settings the client sent (undefined before its first). */
  settings: Settings | undefined;
  telemetry: TelemetryChannel | undefined;
  lastSeenMs: number;
}

export class ClientSessions {
  private readonly byId = new Map<string, ClientSession>();

  get(clientId: string): ClientSession | undefined {
    return this.byId.get(clientId);
  }

  /** The session of `clientId`, created on first sight; its last-seen time refreshed. */
  touch(clientId: string, nowMs = Date.now()): ClientSession {
    let s = this.byId.get(clientId);
    if (s === undefined) {
      s = {
        clientId,
        clientType: 'CLIENT_TYPE_UNSPECIFIED',
        settings: undefined,
        telemetry: undefined,
        lastSeenMs: nowMs,
      };
      this.byId.set(clientId, s);
    }
    s.lastSeenMs = nowMs;
    return s;
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
