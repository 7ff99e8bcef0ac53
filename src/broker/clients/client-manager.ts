/**
 * Producer and consumer registrations from HEART_BEAT (RocketMQ's ConsumerManager / ProducerManager): which
 * clients are in which group, on which connection, with which subscriptions.
 */
import type { SubscriptionData } from '../../remoting/protocol/clients.js';
import type { RemotingConnection } from '../../remoting/server.js';

export type { SubscriptionData };

export interface ClientChannel {
  clientId: string;
  conn: RemotingConnection;
  language: string;
  version: number;
  lastUpdateMs: number;
}

export interface ConsumerGroupInfo {
  groupName: string;
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
  clients: Map<string, ClientChannel>;
  subscriptions: Map<string, SubscriptionData>;
}

/** What a registration did: added a client to its group, refreshed one, or was refused for the limit. */
export const Registered = { added: 'added', refreshed: 'refreshed', overLimit: 'overLimit' } as const;
export type Registered = (typeof Registered)[keyof typeof Registered];

/** Called with the group whose membership changed and its remaining connections. */
export type MembershipListener = (group: string, conns: RemotingConnection[]) => void;

export interface ConsumerRegistration {
  groupName: string;
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
  subscriptions: SubscriptionData[];
}

export class ClientManager {
  readonly consumers = new Map<string, ConsumerGroupInfo>();
  readonly producers = new Map<string, Map<string, ClientChannel>>();
  private readonly listeners: MembershipListener[] = [];
  // Registrations (a client id in a producer or consumer group) held per connection: any clientID and group
  // name can be sent, so one connection may hold at most `perConnectionMax` of them.
  private readonly perConnection = new Map<RemotingConnection, number>();

  /** `perConnectionMax`: registrations one connection may hold (clientRegistrationsPerConnectionMax). */
  constructor(readonly perConnectionMax = Number.POSITIVE_INFINITY) {}

  onMembershipChange(cb: MembershipListener): void {
    this.listeners.push(cb);
  }

  /** Adds or refreshes a consumer; a new one is refused past the connection's limit. */
  registerConsumer(reg: ConsumerRegistration, channel: ClientChannel): Registered {
    let info = this.consumers.get(reg.groupName);
    const old = info?.clients.get(channel.clientId);
    if (old?.conn !== channel.conn && this.full(channel.conn)) return Registered.overLimit;
    if (info === undefined) {
      info = {
        groupName: reg.groupName,
        consumeType: reg.consumeType,
        messageModel: reg.messageModel,
        consumeFromWhere: reg.consumeFromWhere,
        clients: new Map(),
        subscriptions: new Map(),
      };
      this.consumers.set(reg.groupName, info);
    }
    info.consumeType = reg.consumeType;
    info.messageModel = reg.messageModel;
    info.consumeFromWhere = reg.consumeFromWhere;
    this.replaced(old, channel);
    info.clients.set(channel.clientId, channel);
    // Latest heartbeat wins for subscriptions, as in RocketMQ (newer subVersion replaces older).
    const seen = new Set<string>();
    for (const sub of reg.subscriptions) {
      seen.add(sub.topic);
      const prev = info.subscriptions.get(sub.topic);
      if (prev === undefined || prev.subVersion <= sub.subVersion) info.subscriptions.set(sub.topic, sub);
    }
    const changed = old === undefined || old.conn !== channel.conn;
    if (changed) this.notify(info);
    return changed ? Registered.added : Registered.refreshed;
  }

  /** Adds or refreshes a producer; a new one is refused past the connection's limit. */
  registerProducer(group: string, channel: ClientChannel): Registered {
    const old = this.producers.get(group)?.get(channel.clientId);
    if (old?.conn !== channel.conn && this.full(channel.conn)) return Registered.overLimit;
    let m = this.producers.get(group);
    if (m === undefined) {
      m = new Map();
      this.producers.set(group, m);
    }
    this.replaced(old, channel);
    m.set(channel.clientId, channel);
    return old === undefined ? Registered.added : Registered.refreshed;
  }

  unregisterConsumer(group: string, clientId: string): void {
    const info = this.consumers.get(group);
    const c = info?.clients.get(clientId);
    if (info === undefined || c === undefined) return;
    info.clients.delete(clientId);
    this.released(c.conn);
    if (info.clients.size === 0) this.consumers.delete(group);
    this.notify(info);
  }

  unregisterProducer(group: string, clientId: string): void {
    const m = this.producers.get(group);
    const c = m?.get(clientId);
    if (m === undefined || c === undefined) return;
    m.delete(clientId);
    this.released(c.conn);
    if (m.size === 0) this.producers.delete(group);
  }

  /** Registrations held by `conn`. */
  registrationsOf(conn: RemotingConnection): number {
    return this.perConnection.get(conn) ?? 0;
  }

  private full(conn: RemotingConnection): boolean {
    return this.registrationsOf(conn) >= this.perConnectionMax;
  }

  /** Counts `next` against its connection, and releases `old`'s count when it held the same slot. */
  private replaced(old: ClientChannel | undefined, next: ClientChannel): void {
    if (old?.conn === next.conn) return;
    if (old !== undefined) this.released(old.conn);
    this.perConnection.set(next.conn, this.registrationsOf(next.conn) + 1);
  }

  private released(conn: RemotingConnection): void {
    const n = this.registrationsOf(conn) - 1;
    if (n > 0) this.perConnection.set(conn, n);
    else this.perConnection.delete(conn);
  }

  /** Drops every registration made over `conn` (its socket closed). */
  connectionClosed(conn: RemotingConnection): void {
    this.dropWhere((c) => c.conn === conn);
  }

  /** Drops clients silent for longer than `expiredMs`; returns the connections to close. */
  scanIdle(nowMs: number, expiredMs: number): RemotingConnection[] {
    return this.dropWhere((c) => nowMs - c.lastUpdateMs > expiredMs);
  }

  private dropWhere(pred: (c: ClientChannel) => boolean): RemotingConnection[] {
    const dropped = new Set<RemotingConnection>();
    for (const info of [...this.consumers.values()]) {
      let changed = false;
      for (const [id, c] of info.clients) {
        if (pred(c)) {
          info.clients.delete(id);
          this.released(c.conn);
          dropped.add(c.conn);
          changed = true;
        }
      }
      if (info.clients.size === 0) this.consumers.delete(info.groupName);
      if (changed) this.notify(info);
    }
    for (const [group, m] of [...this.producers]) {
      for (const [id, c] of m) {
        if (pred(c)) {
          m.delete(id);
          this.released(c.conn);
          dropped.add(c.conn);
        }
      }
      if (m.size === 0) this.producers.delete(group);
    }
    return [...dropped];
  }

  /** The connection of a producer client, in any group (RocketMQ's ProducerManager.findChannel): reply pushes. */
  findProducerChannel(clientId: string): ClientChannel | undefined {
    for (const m of this.producers.values()) {
      const c = m.get(clientId);
      if (c !== undefined && !c.conn.closed) return c;
    }
    return undefined;
  }

  consumerIds(group: string): string[] {
    return [...(this.consumers.get(group)?.clients.keys() ?? [])];
  }

  subscription(group: string, topic: string): SubscriptionData | undefined {
    return this.consumers.get(group)?.subscriptions.get(topic);
  }

  private notify(info: ConsumerGroupInfo): void {
    const conns = [...info.clients.values()].map((c) => c.conn);
    for (const cb of this.listeners) cb(info.groupName, conns);
  }
}
