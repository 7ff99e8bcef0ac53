/**
 * Bytes held by incomplete frames across a server's connections, with a budget: past it, the connection
 * holding the most is closed (logged and counted) until the total is back under. A frame that completes
 * quickly rarely holds much at once; a client that announces a huge frame and trickles it is the one dropped.
 */
import type { Logger } from '../common/log.js';
import type { Channel, HeldBytesSink } from './connection.js';
import { LogThrottle } from './log-throttle.js';

export class PartialFrameBudget implements HeldBytesSink {
  private heldBytes = 0;
  private shedding = false;
  private readonly dropLog = new LogThrottle();
  /** Connections closed to bring the total back under the budget. */
  droppedOverBudget = 0;

  constructor(
    private readonly bytesMax: number,
    private readonly channels: () => Iterable<Channel>,
    private readonly log: Logger,
    private readonly server: string,
  ) {}

  /** Bytes held now by incomplete frames. */
  get bytes(): number {
    return this.heldBytes;
  }

  held(deltaBytes: number): void {
    this.heldBytes += deltaBytes;
    if (this.heldBytes > this.bytesMax && !this.shedding) this.shed();
  }

  private shed(): void {
    this.shedding = true;
    try {
      while (this.heldBytes > this.bytesMax) {
        let largest: Channel | undefined;
        for (const ch of this.channels()) {
          if (ch.partialFrameBytes > (largest?.partialFrameBytes ?? 0)) largest = ch;
        }
        if (largest === undefined) break;
        this.droppedOverBudget++;
        const unlogged = this.dropLog.take();
        if (unlogged !== undefined) {
          this.log.warn('incomplete frames over partialFramesBytesMax; closing the connection holding the most', {
            server: this.server,
            conn: largest.id,
            peer: largest.remoteAddress,
            heldBytes: largest.partialFrameBytes,
            frameBytes: largest.partialFrameExpectedBytes,
            totalBytes: this.heldBytes,
            partialFramesBytesMax: this.bytesMax,
            droppedUnlogged: unlogged,
          });
        }
        // Releases its bytes (held() with a negative delta) before returning.
        largest.abort();
      }
    } finally {
      this.shedding = false;
    }
  }
}
