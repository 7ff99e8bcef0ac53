/**
 * Fair scheduling of data-path requests (sends) across connections. Each connection may have a bounded number of
 * requests being processed; the rest wait in that connection's own queue. When room frees, connections with
 * work take turns (round robin), so one connection's flood cannot queue ahead of everyone else's requests.
 * A queued request of a connection over its share that waited too long is answered SYSTEM_BUSY, as RocketMQ's
 * [TIMEOUT_CLEAN_QUEUE]; a connection within its share is never refused. A connection whose queue is full is
 * not read until half of it is served (TCP back-pressure), so a flood costs the broker no work past its queue.
 * Requests of codes not gated here (heartbeats, routes, admin, pulls) never pass through: they are never queued
 * behind sends.
 */
import { ResponseCode } from './codes.js';
import { createResponse, type RemotingCommand } from './command.js';
import type { Processor, RemotingConnection } from './connection.js';

export interface RequestSchedulerOptions {
  /** Requests of one connection processed at once (its share); more wait in its queue. */
  inFlightPerConnectionMax: number;
  /** Request body bytes processed at once across connections; admission stops at this total. */
  inFlightBytesMax: number;
  /** A queued request of a connection over its share is answered SYSTEM_BUSY once it waited this long. */
  queueWaitMsMax: number;
  /** Requests queued across connections past which a connection over its share is refused at once. */
  queuedRequestsMax: number;
  /** Body bytes queued across connections, likewise. */
  queuedBytesMax: number;
  /** Requests queued on one connection at which it is no longer read, until half of them are served. */
  queuedPerConnectionPause: number;
  /** Milliseconds clock (tests freeze it). */
  nowMs?: () => number;
  /** Called once per shed or refused request, with its remark (logging, counters). */
  onShed?: (remark: string, conn: RemotingConnection) => void;
}

export interface SchedulerStats {
  inFlight: number;
  inFlightBytes: number;
  queued: number;
  queuedBytes: number;
  /** Answered SYSTEM_BUSY after waiting too long in a queue. */
  shedTimeout: number;
  /** Answered SYSTEM_BUSY at arrival because the queues were full. */
  shedOverload: number;
}

type Answer = RemotingCommand | undefined;

interface Queued {
  readonly req: RemotingCommand;
  readonly processor: Processor;
  readonly bytes: number;
  readonly sinceMs: number;
  readonly resolve: (resp: Answer) => void;
  readonly reject: (err: unknown) => void;
}

/** One connection's share: what it has in flight and its own queue (a FIFO with a moving head). */
class Lane {
  inFlight = 0;
  closed = false;
  /** True while its connection is not read (its queue is full). */
  paused = false;
  /** True while in the scheduler's round-robin ring. */
  ready = false;
  private items: Queued[] = [];
  private head = 0;

  constructor(readonly conn: RemotingConnection) {}

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): Queued | undefined {
    return this.items[this.head];
  }

  push(q: Queued): void {
    this.items.push(q);
  }

  shift(): Queued | undefined {
    const q = this.items[this.head];
    if (q === undefined) return undefined;
    this.items[this.head++] = undefined as unknown as Queued;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return q;
  }

  drain(): Queued[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}

const sweepMsMax = 10;

export class RequestScheduler {
  private readonly opts: RequestSchedulerOptions;
  private readonly nowMs: () => number;
  private readonly lanes = new Map<RemotingConnection, Lane>();
  /** Lanes with queued work and room in their share, in turn order. */
  private ring: Lane[] = [];
  /** Lanes with queued work (swept for requests that waited too long). */
  private readonly waiting = new Set<Lane>();
  private inFlight = 0;
  private inFlightBytes = 0;
  private queued = 0;
  private queuedBytes = 0;
  private shedTimeout = 0;
  private shedOverload = 0;
  private pumping = false;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(opts: RequestSchedulerOptions) {
    this.opts = opts;
    this.nowMs = opts.nowMs ?? Date.now;
  }

  /** The processor that runs `processor` under this scheduler: register it for the data-path codes. */
  gate(processor: Processor): Processor {
    return (req, conn) => this.submit(processor, req, conn);
  }

  stats(): SchedulerStats {
    return {
      inFlight: this.inFlight,
      inFlightBytes: this.inFlightBytes,
      queued: this.queued,
      queuedBytes: this.queuedBytes,
      shedTimeout: this.shedTimeout,
      shedOverload: this.shedOverload,
    };
  }

  /** Stops the sweep timer; queued requests are answered as their connections close. */
  close(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  submit(processor: Processor, req: RemotingCommand, conn: RemotingConnection): Promise<Answer> | Answer {
    const lane = this.laneOf(conn);
    const bytes = req.body?.length ?? 0;
    const o = this.opts;
    // The uncontended path: nothing queued on this connection, room in its share and in the total.
    if (lane.length === 0 && lane.inFlight < o.inFlightPerConnectionMax && this.inFlightBytes < o.inFlightBytesMax) {
      return this.run(lane, processor, req, bytes);
    }
    const overShare = lane.inFlight + lane.length >= o.inFlightPerConnectionMax;
    if (overShare && (this.queued >= o.queuedRequestsMax || this.queuedBytes + bytes > o.queuedBytesMax)) {
      this.shedOverload++;
      const remark =
        `[OVERLOAD]system busy, start flow control for a while, queued: ${this.queued} requests, ` +
        `${this.queuedBytes} bytes`;
      o.onShed?.(remark, conn);
      return createResponse(req, ResponseCode.SYSTEM_BUSY, remark);
    }
    return new Promise<Answer>((resolve, reject) => {
      lane.push({ req, processor, bytes, sinceMs: this.nowMs(), resolve, reject });
      this.queued++;
      this.queuedBytes += bytes;
      this.waiting.add(lane);
      if (!lane.paused && lane.length >= o.queuedPerConnectionPause && lane.conn.pauseReading !== undefined) {
        lane.paused = true;
        lane.conn.pauseReading();
      }
      if (!lane.ready && lane.inFlight < o.inFlightPerConnectionMax) this.enterRing(lane);
      this.startSweep();
      this.pump();
    });
  }

  /** Answers queued requests that waited too long on connections over their share; exposed for tests. */
  sweep(): void {
    const now = this.nowMs();
    const o = this.opts;
    for (const lane of this.waiting) {
      let q = lane.peek();
      while (q !== undefined && now - q.sinceMs >= o.queueWaitMsMax) {
        if (lane.inFlight + lane.length <= o.inFlightPerConnectionMax) break;
        lane.shift();
        this.dequeued(q, lane);
        this.shedTimeout++;
        const remark =
          `[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, ` +
          `period in queue: ${now - q.sinceMs}ms, size of queue: ${lane.length}`;
        this.opts.onShed?.(remark, lane.conn);
        q.resolve(createResponse(q.req, ResponseCode.SYSTEM_BUSY, remark));
        q = lane.peek();
      }
      if (lane.length === 0) this.waiting.delete(lane);
    }
    if (this.queued === 0) this.close();
  }

  private laneOf(conn: RemotingConnection): Lane {
    let lane = this.lanes.get(conn);
    if (lane === undefined) {
      const created = new Lane(conn);
      lane = created;
      this.lanes.set(conn, created);
      conn.onClose(() => this.dropLane(created));
    }
    return lane;
  }

  private run(lane: Lane, processor: Processor, req: RemotingCommand, bytes: number): Promise<Answer> | Answer {
    lane.inFlight++;
    this.inFlight++;
    this.inFlightBytes += bytes;
    let result: ReturnType<Processor>;
    try {
      result = processor(req, lane.conn);
    } catch (err) {
      this.release(lane, bytes);
      throw err;
    }
    if (result instanceof Promise) {
      // The processor's own promise goes back: the caller's reaction runs after this release (registered first),
      // without a wrapping promise and its extra reaction per request. The release's derived promise never rejects.
      const done = () => this.release(lane, bytes);
      result.then(done, done);
      return result;
    }
    this.release(lane, bytes);
    return result;
  }

  private release(lane: Lane, bytes: number): void {
    lane.inFlight--;
    this.inFlight--;
    this.inFlightBytes -= bytes;
    if (!lane.ready && !lane.closed && lane.length > 0) this.enterRing(lane);
    if (this.ring.length > 0) this.pump();
  }

  /** Admits queued requests, one per connection per turn, while the total allows. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const o = this.opts;
    try {
      while (this.ring.length > 0 && this.inFlightBytes < o.inFlightBytesMax) {
        const lane = this.ring.shift() as Lane;
        lane.ready = false;
        if (lane.closed || lane.inFlight >= o.inFlightPerConnectionMax) continue;
        const q = lane.shift();
        if (q === undefined) continue;
        this.dequeued(q, lane);
        if (lane.length === 0) this.waiting.delete(lane);
        else if (lane.inFlight + 1 < o.inFlightPerConnectionMax) this.enterRing(lane);
        let out: Promise<Answer> | Answer;
        try {
          out = this.run(lane, q.processor, q.req, q.bytes);
        } catch (err) {
          q.reject(err);
          continue;
        }
        if (out instanceof Promise) out.then(q.resolve, q.reject);
        else q.resolve(out);
      }
    } finally {
      this.pumping = false;
    }
  }

  private enterRing(lane: Lane): void {
    lane.ready = true;
    this.ring.push(lane);
  }

  private dequeued(q: Queued, lane: Lane): void {
    this.queued--;
    this.queuedBytes -= q.bytes;
    if (lane.paused && lane.length <= this.opts.queuedPerConnectionPause >> 1) {
      lane.paused = false;
      lane.conn.resumeReading?.();
    }
  }

  /** A closed connection's queued requests are never run (nothing of theirs was accepted) nor answered. */
  private dropLane(lane: Lane): void {
    lane.closed = true;
    this.lanes.delete(lane.conn);
    this.waiting.delete(lane);
    if (lane.ready) this.ring = this.ring.filter((l) => l !== lane);
    lane.ready = false;
    lane.paused = false;
    for (const q of lane.drain()) {
      this.dequeued(q, lane);
      q.resolve(undefined);
    }
  }

  private startSweep(): void {
    if (this.sweepTimer !== undefined) return;
    const periodMs = Math.max(1, Math.min(sweepMsMax, Math.floor(this.opts.queueWaitMsMax / 2)));
    this.sweepTimer = setInterval(() => this.sweep(), periodMs);
    this.sweepTimer.unref();
  }
}
