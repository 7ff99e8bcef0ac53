/** What the load generator needs from each system: one started server, a client session, and its client modes. */
import type { Durability, ModeKind } from './results.js';

export interface ConsumerHandle {
  /** Stops delivery and closes the consumer's connection. */
  stop(): Promise<void>;
}

interface ModeLabel {
  /** Short name shown in the table and JSON, e.g. `js.publish`, `async-publish`. */
  readonly mode: string;
  readonly kind: ModeKind;
  /** One line: how this mode drives the system. */
  readonly describe: string;
}

export interface ProduceMode extends ModeLabel {
  readonly durability: Durability;
  /**
   * Publishes `count` persistent messages with bodies `body(i)` to `name` and resolves when every one was
   * confirmed. Resolves with CPU µs an external load tool spent (0 when the work ran in this process).
   */
  run(name: string, count: number, body: (i: number) => Buffer): Promise<number>;
}

export interface ConsumeMode extends ModeLabel {
  /** Starts reading `name` from its start; resolves once subscribed. Bodies go to `onMessage`. */
  consume(name: string, onMessage: (body: Buffer) => void): Promise<ConsumerHandle>;
}

export interface PeerSession {
  /** Creates an empty stream/queue/topic `name` (and the consumer group that reads it from the start). */
  prepare(name: string): Promise<void>;
  /** The idiomatic single publish (used by the fixed-rate e2e workload); resolves when the server confirmed it. */
  publish(name: string, body: Buffer): Promise<void>;
  /** Produce modes, the idiomatic one first. */
  readonly produceModes: readonly ProduceMode[];
  /** Consume modes, the idiomatic one first; mode k reads the backlog produce mode k wrote. */
  readonly consumeModes: readonly ConsumeMode[];
  close(): Promise<void>;
}

/** In-flight bounds of the produce modes. */
export interface ModeOptions {
  /** Messages in flight for the idiomatic per-message modes. */
  window: number;
  /** Messages in flight for the best modes (batches × batch size, or async publishes). */
  bestWindow: number;
  /** Messages per explicit batch / pipeline. */
  batchSize: number;
}

export interface StartedPeer {
  session: PeerSession;
  /** Process-group ids of every server process started (their CPU is the server's). */
  serverGroups: readonly number[];
  stop(): Promise<void>;
}

export interface Peer {
  name: string;
  /** Debian packages that provide the server (for --install). */
  aptPackages?: readonly string[];
  /** One line: storage, durability and ack mode used. */
  config: string;
  /** Why it cannot run here, or undefined when it can. */
  unavailable(): string | undefined;
  start(dir: string, modes: ModeOptions): Promise<StartedPeer>;
}
