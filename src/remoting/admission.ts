/**
 * Admission of new connections: caps per IP address and in total, and the fd reserve (no connection may leave
 * fewer than `fdReserve` file descriptors free, so the store can always open its files). A refused connection
 * is accepted and closed at once, with nothing answered; the limit is logged (at most one line per limit every
 * 10 s, with the number refused since) and counted. Closing the listener instead would make the port look
 * down to TCP probes and let another process take it; an accepted-and-closed socket holds its fd only for
 * that moment, which the reserve absorbs.
 */
import type { Logger } from '../common/log.js';
import type { ServerLimits } from './limits.js';
import { LogThrottle } from './log-throttle.js';

/** The limit that refused a connection, named by its config key. */
export const RefusedBy = {
  perIp: 'connectionsPerIpMax',
  total: 'connectionsMax',
  fdReserve: 'connectionFdReserve',
} as const;
export type RefusedBy = (typeof RefusedBy)[keyof typeof RefusedBy];

export class ConnectionAdmission {
  private readonly perIp = new Map<string, number>();
  private openCount = 0;
  /** Fds held besides connections (files, listener, stdio) at the last count; undefined = not known. */
  private otherFds: number | undefined;
  private paused = false;
  readonly refused: Record<RefusedBy, number> = { connectionsPerIpMax: 0, connectionsMax: 0, connectionFdReserve: 0 };
  private readonly refusalLog: Record<RefusedBy, LogThrottle> = {
    connectionsPerIpMax: new LogThrottle(),
    connectionsMax: new LogThrottle(),
    connectionFdReserve: new LogThrottle(),
  };

  constructor(
    private readonly limits: ServerLimits,
    /** The process's fd limit; undefined (not Linux, or unlimited) leaves the reserve unchecked. */
    private readonly fdLimit: number | undefined,
    private readonly log: Logger,
    private readonly server: string,
  ) {}

  get open(): number {
    return this.openCount;
  }

  /** True while new connections are refused to keep the fd reserve. */
  get acceptPaused(): boolean {
    return this.paused;
  }

  /** Connections the fd reserve allows now; Infinity when the limit is unknown (fds not counted: none assumed). */
  fdCeiling(): number {
    if (this.fdLimit === undefined) return Number.POSITIVE_INFINITY;
    return this.fdLimit - this.limits.fdReserve - (this.otherFds ?? 0);
  }

  /** For a socket just accepted from `ip`: undefined when admitted (and counted), else the limit refusing it. */
  admit(ip: string): RefusedBy | undefined {
    if (this.paused) this.maybeResume();
    let by: RefusedBy | undefined;
    // The accepted socket already holds its fd: admitted, it keeps it.
    if (this.paused || this.openCount >= this.fdCeiling()) {
      this.pause();
      by = RefusedBy.fdReserve;
    } else if (this.openCount >= this.limits.connectionsMax) by = RefusedBy.total;
    else if ((this.perIp.get(ip) ?? 0) >= this.limits.connectionsPerIpMax) by = RefusedBy.perIp;
    if (by !== undefined) {
      this.refused[by]++;
      this.logRefusal(by, ip);
      return by;
    }
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    this.openCount++;
    return undefined;
  }

  /** An admitted connection from `ip` closed. */
  release(ip: string): void {
    const n = this.perIp.get(ip) ?? 0;
    if (n <= 1) this.perIp.delete(ip);
    else this.perIp.set(ip, n - 1);
    if (this.openCount > 0) this.openCount--;
    if (this.paused) this.maybeResume();
  }

  /** The process's open fds as just counted ('exhausted': counting found none free). */
  fdsCounted(count: number | 'exhausted' | undefined): void {
    if (this.fdLimit === undefined || count === undefined) {
      this.otherFds = undefined;
    } else {
      const total = count === 'exhausted' ? this.fdLimit : count;
      this.otherFds = Math.max(0, total - this.openCount);
    }
    if (this.paused) this.maybeResume();
    else if (this.openCount > this.fdCeiling()) this.pause();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.log.warn('accepting paused: new connections are closed to keep the fd reserve', {
      server: this.server,
      connections: this.openCount,
      fdLimit: this.fdLimit,
      otherFds: this.otherFds,
      connectionFdReserve: this.limits.fdReserve,
    });
  }

  /** Resumes once connections are 5 % (at least 1) under the ceiling, so that accepting does not flap. */
  private maybeResume(): void {
    const ceiling = this.fdCeiling();
    if (Number.isFinite(ceiling) && this.openCount > ceiling - Math.max(1, Math.ceil(ceiling * 0.05))) return;
    this.paused = false;
    // At warn like the pause, so that whoever sees one line sees the other.
    this.log.warn('accepting resumed', {
      server: this.server,
      connections: this.openCount,
      otherFds: this.otherFds,
      refusedWhilePaused: this.refused.connectionFdReserve,
    });
  }

  private logRefusal(by: RefusedBy, ip: string): void {
    const unlogged = this.refusalLog[by].take();
    if (unlogged === undefined) return;
    const why =
      by === RefusedBy.perIp
        ? `${by} ${this.limits.connectionsPerIpMax} reached for this address`
        : by === RefusedBy.total
          ? `${by} ${this.limits.connectionsMax} reached`
          : `${by} ${this.limits.fdReserve} would not stay free`;
    this.log.warn(`connection refused: ${why}`, {
      server: this.server,
      peer: ip,
      connections: this.openCount,
      refusedUnlogged: unlogged,
    });
  }
}
