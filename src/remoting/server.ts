/** RemotingServer: accepts connections and dispatches requests to processors registered by request code. */
import { createServer, type Server, type Socket } from 'node:net';
import { createLogger } from '../common/log.js';
import { PeriodicTask } from '../common/periodic-task.js';
import { ConnectionAdmission } from './admission.js';
import { frameBytesMax as frameBytesMaxDefault } from './codec.js';
import { Channel, type Processor, type RemotingConnection } from './connection.js';
import { ConnectionSweep, sweepPeriodMs } from './connection-sweep.js';
import { openFdCount, processFdLimit } from './fd-count.js';
import { applyHeapBallast } from './gc-ballast.js';
import { applyScavengeMode, ScavengeMode, scavengeContended } from './gc-mode.js';
import type { RequestHook } from './hooks.js';
import { type ServerLimits, serverLimitsDefault } from './limits.js';
import { PartialFrameBudget } from './partial-frames.js';
import { RunQueueMeter, runQueueShareBusyMin } from './run-queue.js';
import { TurnShare } from './turn-share.js';

export type { Processor, RemotingConnection } from './connection.js';
export type { RequestHook } from './hooks.js';

export interface RemotingServerOptions {
  /** Names the server in logs (e.g. 'namesrv', 'broker'). */
  name: string;
  /** 0 = ephemeral. */
  port: number;
  host?: string;
  frameBytesMax?: number;
  /** Bound on server → client invokes awaiting a response, per connection. */
  pendingRequestsMax?: number;
  /** Unsent response bytes per connection past which the client is considered stuck and dropped. */
  writeBufferBytesMax?: number;
  /** Idle reaping, connection caps, the fd reserve, partial frames; each unset one takes its default. */
  limits?: Partial<ServerLimits>;
  /** The process's fd limit; default read from /proc/self/limits (tests pass a small one). */
  fdLimit?: number;
  /**
   * The event loop's run-queue share of wall time since the last call (see run-queue.ts), asked once per sweep
   * period; default measured from schedstat (tests pass a fixed one).
   */
  runQueueShare?: () => number | undefined;
}

/** Connection counters, for the broker's runtime info. */
export interface ConnectionStats {
  connectionsOpen: number;
  connectionsRefusedPerIp: number;
  connectionsRefusedTotal: number;
  connectionsRefusedFdReserve: number;
  /** True while new connections are closed to keep the fd reserve. */
  acceptPaused: boolean;
  connectionsReapedIdle: number;
  partialFramesTimedOut: number;
  partialFramesDroppedOverBudget: number;
  /** Bytes held now by incomplete frames. */
  partialFrameBytes: number;
}

export const serverPendingRequestsMaxDefault = 1024;
export const writeBufferBytesMaxDefault = 64 * 1024 * 1024;

const log = createLogger('remoting');

export class RemotingServer {
  private readonly opts: RemotingServerOptions;
  private readonly server: Server;
  private readonly processors = new Map<number, Processor>();
  private defaultProcessor: Processor | undefined;
  private readonly hooks: RequestHook[] = [];
  private readonly channels = new Set<Channel>();
  private readonly closeListeners: Array<(conn: RemotingConnection) => void> = [];
  private nextId = 0;
  private boundPort = 0;
  private closing: Promise<void> | undefined;
  private readonly limits: ServerLimits;
  private readonly fdLimit: number | undefined;
  private readonly admission: ConnectionAdmission;
  private readonly sweep: ConnectionSweep;
  private readonly sweepTask: PeriodicTask;
  private readonly partialFrames: PartialFrameBudget;
  private readonly turnShare: TurnShare;
  /** This server counts in gc-mode's contended servers (its connections compete for turns, the cores are busy). */
  private scavengeVote = false;
  private readonly serialWhileContended: boolean;
  private readonly runQueueMeter = new RunQueueMeter();
  private readonly runQueueShare: () => number | undefined;
  /** The event loop waited for a core for runQueueShareBusyMin of the last sweep period (undefined: not measured yet). */
  private coresBusy: boolean | undefined;

  constructor(opts: RemotingServerOptions) {
    this.opts = opts;
    this.limits = { ...serverLimitsDefault, ...opts.limits };
    this.fdLimit = opts.fdLimit ?? processFdLimit();
    this.admission = new ConnectionAdmission(this.limits, this.fdLimit, log, opts.name);
    this.sweep = new ConnectionSweep(this.limits, log, opts.name);
    this.serialWhileContended = this.limits.scavengeParallel && this.limits.scavengeSerialWhileContended;
    this.runQueueShare = opts.runQueueShare ?? (() => this.runQueueMeter.sample());
    this.turnShare = new TurnShare(
      this.limits.framesPerTurnMax,
      this.limits.framesPerContendedTurnMax,
      this.serialWhileContended ? () => this.syncScavengeVote() : undefined,
    );
    applyScavengeMode(this.limits.scavengeParallel ? ScavengeMode.parallel : ScavengeMode.serial);
    applyHeapBallast(this.limits.heapBallastMiB);
    this.partialFrames = new PartialFrameBudget(this.limits.partialFramesBytesMax, () => this.channels, log, opts.name);
    this.sweepTask = new PeriodicTask({
      name: `${opts.name}-connection-sweep`,
      periodMs: sweepPeriodMs(this.limits),
      log,
      run: () => {
        this.sweep.run(this.channels, Date.now());
        if (this.serialWhileContended) this.measureCores();
        return this.countFds();
      },
    });
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', (err) => log.error('server error', { server: opts.name, err }));
  }

  registerProcessor(code: number, p: Processor): void {
    this.processors.set(code, p);
  }

  /** Handles every code without a registered processor (instead of answering 3). */
  registerDefaultProcessor(p: Processor): void {
    this.defaultProcessor = p;
  }

  /**
   * Adds a request hook (ACL check, per-code metrics, load shedding), run around every request that has a
   * processor, after those added before it. See hooks.ts.
   */
  addHook(hook: RequestHook): void {
    this.hooks.push(hook);
  }

  /** Listens; rejects when the port cannot be bound. */
  async start(): Promise<void> {
    await this.countFds();
    await this.listen();
    this.sweepTask.start();
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.opts.port, this.opts.host ?? '0.0.0.0', () => {
        this.server.off('error', onError);
        const address = this.server.address();
        this.boundPort = typeof address === 'object' && address !== null ? address.port : this.opts.port;
        log.info('listening', { server: this.opts.name, port: this.boundPort });
        resolve();
      });
    });
  }

  /** The bound port (valid after start). */
  get port(): number {
    return this.boundPort;
  }

  onConnectionClose(cb: (conn: RemotingConnection) => void): void {
    this.closeListeners.push(cb);
  }

  connections(): Iterable<RemotingConnection> {
    return this.channels.values();
  }

  stats(): ConnectionStats {
    const refused = this.admission.refused;
    return {
      connectionsOpen: this.channels.size,
      connectionsRefusedPerIp: refused.connectionsPerIpMax,
      connectionsRefusedTotal: refused.connectionsMax,
      connectionsRefusedFdReserve: refused.connectionFdReserve,
      acceptPaused: this.admission.acceptPaused,
      connectionsReapedIdle: this.sweep.reapedIdle,
      partialFramesTimedOut: this.sweep.framesTimedOut,
      partialFramesDroppedOverBudget: this.partialFrames.droppedOverBudget,
      partialFrameBytes: this.partialFrames.bytes,
    };
  }

  /** Stops listening, closes every connection, resolves when all are closed. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.sweepTask.stop();
      const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
      const closed = [...this.channels].map((ch) => {
        ch.close();
        return ch.whenClosed();
      });
      await Promise.all([stopped, ...closed]);
      this.syncScavengeVote();
      this.runQueueMeter.close();
      log.info('closed', { server: this.opts.name });
    })();
    return this.closing;
  }

  private measureCores(): void {
    const share = this.runQueueShare();
    if (share !== undefined) this.coresBusy = share >= runQueueShareBusyMin;
    this.syncScavengeVote();
  }

  /** Serial scavenges while this server's connections compete and its event loop waits for a core (gc-mode.ts). */
  private syncScavengeVote(): void {
    if (this.turnShare.contended && this.coresBusy === undefined) {
      const share = this.runQueueShare();
      if (share !== undefined) this.coresBusy = share >= runQueueShareBusyMin;
    }
    const want = this.turnShare.contended && this.coresBusy === true && this.closing === undefined;
    if (want === this.scavengeVote) return;
    this.scavengeVote = want;
    scavengeContended(want ? 1 : -1);
    log.debug(want ? 'connections compete on busy cores: serial scavenges' : 'back to parallel scavenges', {
      server: this.opts.name,
    });
  }

  /** Counts the process's open fds for the reserve (Linux; a no-op where the limit is unknown). */
  private async countFds(): Promise<void> {
    if (this.fdLimit === undefined) return;
    this.admission.fdsCounted(await openFdCount());
  }

  private accept(socket: Socket): void {
    const ip = peerIp(socket.remoteAddress);
    if (this.closing !== undefined || ip === undefined || this.admission.admit(ip) !== undefined) {
      // Accepted and closed at once, nothing answered: the client reconnects later.
      socket.destroy();
      return;
    }
    const channel = new Channel(socket, {
      id: ++this.nextId,
      frameBytesMax: this.opts.frameBytesMax ?? frameBytesMaxDefault,
      pendingRequestsMax: this.opts.pendingRequestsMax ?? serverPendingRequestsMaxDefault,
      writeBufferBytesMax: this.opts.writeBufferBytesMax ?? writeBufferBytesMaxDefault,
      processorFor: (code) => this.processors.get(code) ?? this.defaultProcessor,
      hooks: this.hooks,
      heldBytes: this.partialFrames,
      turnShare: this.turnShare,
      slabReads: true,
      log,
    });
    this.channels.add(channel);
    log.debug('connection accepted', { server: this.opts.name, conn: channel.id, peer: channel.remoteAddress });
    channel.onClose(() => {
      this.channels.delete(channel);
      this.admission.release(ip);
      log.debug('connection closed', { server: this.opts.name, conn: channel.id, peer: channel.remoteAddress });
      for (const cb of this.closeListeners) {
        try {
          cb(channel);
        } catch (err) {
          log.error('connection close listener failed', { server: this.opts.name, err });
        }
      }
    });
  }
}

function peerIp(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}
