/**
 * Producer and consumer registrations from HEART_BEAT (RocketMQ's ConsumerManager / ProducerManager): which
 * clients are in which group, on which connection, with which subscriptions.
 */
import type { RemotingConnection } from '../../remoting/server.js';

/** SubscriptionData as clients send it in heartbeats. */
export interface SubscriptionData {
  topic: string;
  subString: string;
  tagsSet: string[];
  codeSet: number[];
  subVersion: number;
  expressionType?: string | undefined;
  classFilterMode?: boolean | undefined;
}

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

  onMembershipChange(cb: MembershipListener): void {
    this.listeners.push(cb);
  }

  /** Returns true when the group's member set changed. */
  registerConsumer(reg: ConsumerRegistration, channel: ClientChannel): boolean {
    let info = this.consumers.get(reg.groupName);
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
    const old = info.clients.get(channel.clientId);
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
    return changed;
  }

  registerProducer(group: string, channel: ClientChannel): void {
    let m = this.producers.get(group);
    if (m === undefined) {
      m = new Map();
      this.producers.set(group, m);
    }
    m.set(channel.clientId, channel);
  }

  unregisterConsumer(group: string, clientId: string): void {
    const info = this.consumers.get(group);
    if (info === undefined || !info.clients.delete(clientId)) return;
    if (info.clients.size === 0) this.consumers.delete(group);
    this.notify(info);
  }

  unregisterProducer(group: string, clientId: string): void {
    const m = this.producers.get(group);
    m?.delete(clientId);
    if (m?.size === 0) this.producers.delete(group);
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
          dropped.add(c.conn);
        }
      }
      if (m.size === 0) this.producers.delete(group);
    }
    return [...dropped];
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
