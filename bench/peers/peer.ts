/** What the load generator needs from each system: one started server and a client session on it. */

export interface ConsumerHandle {
  /** Stops delivery and closes the consumer's connection. */
  stop(): Promise<void>;
}

export interface PeerSession {
  /** Creates an empty stream/queue/topic `name` (and the consumer group that reads it from the start). */
  prepare(name: string): Promise<void>;
  /** Publishes one persistent message; resolves when the server confirmed it. */
  publish(name: string, body: Buffer): Promise<void>;
  /** Starts reading `name` from its start; resolves once subscribed. Bodies go to `onMessage`. */
  consume(name: string, onMessage: (body: Buffer) => void): Promise<ConsumerHandle>;
  close(): Promise<void>;
}

export interface StartedPeer {
  session: PeerSession;
  stop(): Promise<void>;
}

export interface Peer {
  name: string;
  /** Debian package that provides the server (for --install). */
  aptPackage?: string;
  /** One line: storage, durability and ack mode used. */
  config: string;
  /** Why it cannot run here, or undefined when it can. */
  unavailable(): string | undefined;
  start(dir: string): Promise<StartedPeer>;
}
