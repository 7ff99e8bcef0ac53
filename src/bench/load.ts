/**
 * The send side of every benchmark: `window` concurrent senders, each awaiting one send (or batch) at a time,
 * until `count` messages were issued or the deadline passed. Bodies carry the send time (float64 ms, bytes
 * 0-7) and a run marker (bytes 8-15) so consumers can measure end-to-end latency and skip foreign messages.
 */
import { randomBytes } from 'node:crypto';
import type { Message, Producer } from '../client/index.js';
import { LatencyRecorder, nowMs } from './stats.js';

export const bodyStampBytes = 16;

export interface SendLoadOptions {
  topic: string;
  bodyBytes: number;
  window: number;
  batch: number;
  count: number | undefined;
  durationMs: number;
}

export class SendLoad {
  readonly rt = new LatencyRecorder();
  /** Random per run; consumers count only bodies that carry it. */
  readonly marker = randomBytes(8);
  acked = 0;
  failed = 0;
  private issued = 0;
  private stopped = false;
  private readonly template: Buffer;
  firstError: Error | undefined;

  constructor(private readonly opts: SendLoadOptions) {
    this.template = Buffer.alloc(Math.max(opts.bodyBytes, bodyStampBytes), 0x61);
    this.marker.copy(this.template, 8);
  }

  /** A body with the current time stamped in. */
  body(): Buffer {
    const b = Buffer.allocUnsafe(this.template.length);
    b.set(this.template);
    b.writeDoubleLE(nowMs(), 0);
    return b;
  }

  /** Ends the run early: senders finish their current send and stop. */
  stop(): void {
    this.stopped = true;
  }

  /** Runs the senders to completion; resolves with the elapsed ms. */
  async run(producer: Pick<Producer, 'send'>): Promise<number> {
    const deadline = performance.now() + this.opts.durationMs;
    const started = performance.now();
    const claim = (): number => {
      if (this.stopped) return 0;
      if (this.opts.count === undefined) return performance.now() < deadline ? this.opts.batch : 0;
      const n = Math.min(this.opts.batch, this.opts.count - this.issued);
      this.issued += n;
      return n;
    };
    const sender = async () => {
      for (let n = claim(); n > 0; n = claim()) {
        const t0 = performance.now();
        try {
          if (n === 1 && this.opts.batch === 1) {
            await producer.send({ topic: this.opts.topic, body: this.body() });
          } else {
            const msgs: Message[] = [];
            for (let i = 0; i < n; i++) msgs.push({ topic: this.opts.topic, body: this.body() });
            await producer.send(msgs);
          }
          this.rt.record(performance.now() - t0);
          this.acked += n;
        } catch (err) {
          this.failed += n;
          this.firstError ??= err as Error;
        }
      }
    };
    await Promise.all(Array.from({ length: this.opts.window }, sender));
    return performance.now() - started;
  }

  /** Whether a received body belongs to this run. */
  owns(body: Buffer): boolean {
    return body.length >= bodyStampBytes && body.compare(this.marker, 0, 8, 8, 16) === 0;
  }
}
