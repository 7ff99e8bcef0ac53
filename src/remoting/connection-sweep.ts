/**
 * The server's periodic pass over its connections: closes those idle for channelIdleMsMax (no byte read or
 * written, no request awaiting its answer: RocketMQ's serverChannelMaxIdleTimeSeconds) and those whose frame
 * has not arrived whole within frameReadMsMax of its first byte (a slow sender holding a buffer).
 * Reads and writes only set a flag on the connection; time is taken here, once per pass.
 */
import type { Logger } from '../common/log.js';
import type { Channel } from './connection.js';
import type { ServerLimits } from './limits.js';
import { LogThrottle } from './log-throttle.js';

/** Pass period: a quarter of the shortest timeout, between 10 ms and 1 s. */
export function sweepPeriodMs(limits: ServerLimits): number {
  const idle = limits.channelIdleMsMax > 0 ? limits.channelIdleMsMax : Number.POSITIVE_INFINITY;
  return Math.max(10, Math.min(1000, idle / 4, limits.frameReadMsMax / 4));
}

export class ConnectionSweep {
  /** Connections closed for being idle. */
  reapedIdle = 0;
  /** Connections closed because a frame did not arrive whole in time. */
  framesTimedOut = 0;
  /** Since when each connection has been seen untouched. */
  private readonly quietSinceMs = new WeakMap<Channel, number>();
  private readonly timeoutLog = new LogThrottle();

  constructor(
    private readonly limits: ServerLimits,
    private readonly log: Logger,
    private readonly server: string,
  ) {}

  run(channels: Iterable<Channel>, nowMs: number): void {
    const idleMs = this.limits.channelIdleMsMax;
    for (const ch of channels) {
      if (ch.closed) continue;
      const since = ch.partialFrameSinceMs;
      if (since >= 0 && nowMs - since > this.limits.frameReadMsMax) {
        this.framesTimedOut++;
        const unlogged = this.timeoutLog.take(nowMs);
        if (unlogged !== undefined) {
          this.log.warn('frame not complete within frameReadTimeoutMs; closing connection', {
            server: this.server,
            conn: ch.id,
            peer: ch.remoteAddress,
            frameBytes: ch.partialFrameExpectedBytes,
            receivedBytes: ch.partialFrameBytes,
            frameReadTimeoutMs: this.limits.frameReadMsMax,
            timedOutUnlogged: unlogged,
          });
        }
        ch.abort();
        continue;
      }
      if (idleMs <= 0) continue;
      if (ch.touched || ch.requestsUnanswered > 0) {
        ch.touched = false;
        this.quietSinceMs.set(ch, nowMs);
        continue;
      }
      const quiet = this.quietSinceMs.get(ch);
      if (quiet === undefined) {
        this.quietSinceMs.set(ch, nowMs);
      } else if (nowMs - quiet >= idleMs) {
        this.reapedIdle++;
        this.log.debug('idle connection closed', {
          server: this.server,
          conn: ch.id,
          peer: ch.remoteAddress,
          idleMs: nowMs - quiet,
        });
        ch.close();
      }
    }
  }
}
