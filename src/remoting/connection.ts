/**
 * One remoting connection, shared by server and client: frame decoding, request dispatch to processors,
 * pending invokes keyed by opaque, coalesced writes (cork until the current callback's work is done), and a bound
 * on the frames one connection has handled per event-loop turn.
 */
import type { Socket } from 'node:net';
import { TsRocketError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { decodeFrame, encodeFrameParts, FrameDecoder } from './codec.js';
import { ResponseCode, requestCodeName } from './codes.js';
import type { RemotingCommand } from './command.js';
import { createResponse, Flag, isOneway, isResponse } from './command.js';
import { RemotingClosedError, RemotingSendError } from './errors.js';
import type { RequestHook } from './hooks.js';
import { readIntoSlabs, type SlabReadStats } from './read-slab.js';
import { RequestTable } from './request-table.js';
import type { TurnShare } from './turn-share.js';

/** A peer connection as processors see it. */
export interface RemotingConnection {
  readonly id: number;
  /** `ip:port` of the peer. */
  readonly remoteAddress: string;
  readonly closed: boolean;
  /** Writes a response or oneway command; a no-op when closed. */
  send(cmd: RemotingCommand): void;
  /** Sends a request to the peer and waits for its response. */
  invoke(req: RemotingCommand, timeoutMs: number): Promise<RemotingCommand>;
  invokeOneway(req: RemotingCommand): void;
  close(): void;
  onClose(cb: () => void): void;
  /** Stops reading requests (back-pressure) until resumeReading; responses are still written. */
  pauseReading?(): void;
  resumeReading?(): void;
}

/**
 * Handles one request. Return undefined to answer later (long polling) with `conn.send(createResponse(req, …))`.
 * A thrown TsRocketError becomes a response with its code and message; any other throw becomes SYSTEM_ERROR (1).
 * For oneway requests the result is dropped. Unknown codes are answered with 3 REQUEST_CODE_NOT_SUPPORTED.
 */
export type Processor = (
  req: RemotingCommand,
  conn: RemotingConnection,
) => Promise<RemotingCommand | undefined> | RemotingCommand | undefined;

export interface ChannelOptions {
  id: number;
  frameBytesMax: number;
  pendingRequestsMax: number;
  /** Queued, unsent bytes past which the peer is considered stuck and the connection is dropped. */
  writeBufferBytesMax: number;
  processorFor: (code: number) => Processor | undefined;
  /** The server's request hooks (a live list: hooks added later apply to open connections too). */
  hooks?: readonly RequestHook[] | undefined;
  /**
   * The server's frames per event-loop turn, shared among its connections: past its share, a connection's frames
   * wait in the decoder (reading paused) for the next turn, so one connection's burst cannot fill the turn every
   * other connection waits on. Unset = no bound (clients).
   */
  turnShare?: TurnShare | undefined;
  /**
   * Read the socket into slabs (read-slab.ts: a frame larger than one read is a view, not a join) when this Node's
   * socket allows it (a socket accepted by net.Server, nothing read yet); else, and when unset, 'data' events.
   */
  slabReads?: boolean | undefined;
  /** Told of every change in the bytes held by this connection's incomplete frame (the server's budget). */
  heldBytes?: HeldBytesSink | undefined;
  log: Logger;
}

export interface HeldBytesSink {
  held(deltaBytes: number): void;
}

const gracefulCloseMs = 1000;
/** Corked bytes at which a write flushes at once rather than at the end of the event-loop turn. */
const corkFlushBytes = 64 * 1024;

export class Channel implements RemotingConnection {
  readonly id: number;
  readonly remoteAddress: string;
  private readonly socket: Socket;
  private readonly opts: ChannelOptions;
  private readonly decoder: FrameDecoder;
  private readonly pending: RequestTable;
  private readonly closeCallbacks: Array<() => void> = [];
  private corked = false;
  /** Bytes written since the socket was corked. */
  private corkedBytes = 0;
  private isClosed = false;
  private socketClosed = false;
  /** Set by every read and write; the server's sweep clears it to find idle connections. */
  touched = true;
  /** Requests read and not yet answered (a held pull among them): the connection is not idle. */
  private unanswered = 0;
  /** When the incomplete frame now held began (Date.now()), or -1. */
  private partialSinceMs = -1;
  /** Held bytes last reported to opts.heldBytes. */
  private heldReported = 0;
  private readonly turnShare: TurnShare | undefined;
  /** Reading paused by pauseReading (the peer's queued work is over its share): held frames wait too. */
  private backPressured = false;
  private continuationScheduled = false;
  /**
   * Complete frames may be waiting in the decoder (a pass stopped at the turn's bound or under back-pressure):
   * the socket is not read, and bytes already read wait for the pass that continues.
   */
  private framesHeld = false;
  /** Whether socket.pause() is in effect (set only by syncReading). */
  private socketPaused = false;
  /** A frame was taken since the incomplete frame's start was last noted. */
  private framesTaken = false;
  /** The turn (TurnShare.turn) framesInTurn counts for. */
  private turnSeen = -1;
  /** Frames handled in that turn, over every pass (one per read, plus continuations). */
  private framesInTurn = 0;
  /** The slab reader's counters when the socket reads into slabs, else undefined ('data' events). */
  readonly readStats: SlabReadStats | undefined;

  constructor(socket: Socket, opts: ChannelOptions) {
    this.socket = socket;
    this.opts = opts;
    this.id = opts.id;
    this.remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
    this.pending = new RequestTable(this.remoteAddress);
    this.decoder = new FrameDecoder(opts.frameBytesMax);
    this.turnShare = opts.turnShare;
    socket.setNoDelay(true);
    const slabs =
      opts.slabReads === true
        ? readIntoSlabs(socket, {
            onChunk: (chunk) => this.onData(chunk),
            pendingBytes: () => this.decoder.pendingBytes,
            compact: () => this.decoder.compact(),
            missingBytes: () => this.decoder.missingBytes,
            tailBytes: () => this.decoder.tailBytes,
            moveTailInto: (n, into) => this.decoder.moveTailInto(n, into),
          })
        : undefined;
    this.readStats = slabs;
    if (slabs === undefined) socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // Resets and broken pipes are how peers leave; 'close' follows and cleans up.
      opts.log.debug('socket error', { conn: this.id, peer: this.remoteAddress, code: err.code, err });
    });
    // The peer half-closed: nothing more will be answered, so fail pending requests now rather than at 'close'.
    socket.on('end', () => this.markClosed());
    socket.on('close', () => this.onSocketClose());
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get requestsUnanswered(): number {
    return this.unanswered;
  }

  /** Start (Date.now()) of the incomplete frame held, -1 when none. */
  get partialFrameSinceMs(): number {
    return this.partialSinceMs;
  }

  /** Bytes held by the incomplete frame (as last counted: complete frames waiting for their turn are not). */
  get partialFrameBytes(): number {
    return this.heldReported;
  }

  /** Declared length of the incomplete frame, -1 while its length prefix is incomplete. */
  get partialFrameExpectedBytes(): number {
    return this.decoder.expectedBytes;
  }

  send(cmd: RemotingCommand): void {
    const done = cmd.onWritten;
    if (this.isClosed) {
      done?.();
      return;
    }
    let parts: Buffer[];
    try {
      parts = encodeFrameParts(cmd, this.opts.frameBytesMax);
    } catch (err) {
      done?.();
      throw err;
    }
    if ((cmd.flag & Flag.response) !== 0 && this.unanswered > 0) this.unanswered--;
    this.write(parts, done === undefined ? undefined : () => done());
  }

  /** Like send, but resolves once the bytes are handed to the kernel. */
  sendAndFlush(cmd: RemotingCommand): Promise<void> {
    if (this.isClosed) return Promise.reject(new RemotingClosedError(`connection to ${this.remoteAddress} is closed`));
    const parts = encodeFrameParts(cmd, this.opts.frameBytesMax);
    return new Promise((resolve, reject) => {
      this.write(parts, (err) =>
        err ? reject(new RemotingSendError(`write failed: ${err.message}`, { cause: err })) : resolve(),
      );
    });
  }

  /** Writes oneway frames already encoded (whole frames, in order); resolves once handed to the kernel. */
  sendEncodedAndFlush(frames: Buffer): Promise<void> {
    if (this.isClosed) return Promise.reject(new RemotingClosedError(`connection to ${this.remoteAddress} is closed`));
    return new Promise((resolve, reject) => {
      this.write([frames], (err) =>
        err ? reject(new RemotingSendError(`write failed: ${err.message}`, { cause: err })) : resolve(),
      );
    });
  }

  invoke(req: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.isClosed) return Promise.reject(new RemotingClosedError(`connection to ${this.remoteAddress} is closed`));
    if (this.pending.size >= this.opts.pendingRequestsMax) {
      return Promise.reject(
        new RemotingSendError(`${this.opts.pendingRequestsMax} requests already pending on ${this.remoteAddress}`),
      );
    }
    if (this.pending.has(req.opaque)) {
      return Promise.reject(new RemotingSendError(`opaque ${req.opaque} is already pending on ${this.remoteAddress}`));
    }
    let parts: Buffer[];
    try {
      parts = encodeFrameParts(req, this.opts.frameBytesMax);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<RemotingCommand>((resolve, reject) => {
      this.pending.add(req.opaque, req.code, timeoutMs, resolve, reject);
      this.write(parts);
    });
  }

  invokeOneway(req: RemotingCommand): void {
    this.send({ ...req, flag: req.flag | Flag.oneway });
  }

  /** Flushes queued writes, half-closes, and destroys the socket once flushed (or after a grace period). */
  close(): void {
    if (this.isClosed) return;
    this.markClosed();
    this.uncork();
    const force = setTimeout(() => this.socket.destroy(), gracefulCloseMs);
    force.unref();
    this.socket.once('finish', () => this.socket.destroy());
    this.socket.end();
  }

  pauseReading(): void {
    this.backPressured = true;
    // The server holds this peer back: its incomplete frame is not the peer's delay; timed again on resume.
    this.partialSinceMs = -1;
    this.syncReading();
  }

  resumeReading(): void {
    if (this.isClosed || !this.backPressured) return;
    this.backPressured = false;
    // Frames read before the pause are handled first (next turn); reading resumes once they are.
    if (this.framesHeld) this.continueNextTurn(false);
    else this.syncReading();
  }

  /** Reads the socket exactly while nothing holds it back. */
  private syncReading(): void {
    const paused = this.backPressured || this.framesHeld;
    if (paused === this.socketPaused || this.isClosed) return;
    this.socketPaused = paused;
    if (paused) this.socket.pause();
    else this.socket.resume();
  }

  /** Drops the connection at once, unsent data included. */
  abort(): void {
    this.markClosed();
    this.socket.destroy();
  }

  onClose(cb: () => void): void {
    if (this.socketClosed) queueMicrotask(cb);
    else this.closeCallbacks.push(cb);
  }

  /** Resolves when the socket has closed. */
  whenClosed(): Promise<void> {
    return new Promise((resolve) => this.onClose(resolve));
  }

  private write(parts: Buffer[], cb?: (err?: Error | null) => void): void {
    this.touched = true;
    if (!this.corked) {
      // Everything written by this callback and the promise reactions it starts goes out in one writev, right
      // after them: not a setImmediate, which from the check phase (where the store acks puts) would hold the
      // answers through the next poll phase, i.e. behind every other connection's reads.
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => this.uncork());
    }
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      this.corkedBytes += part.length;
      this.socket.write(part, i === parts.length - 1 ? cb : undefined);
    }
    // A big frame goes out now: the peer starts on it while this side prepares the next one, instead of both
    // sides taking turns a whole window at a time.
    if (this.corkedBytes >= corkFlushBytes) this.uncork();
    if (this.socket.writableLength > this.opts.writeBufferBytesMax) {
      this.opts.log.warn('peer does not read; dropping connection', {
        conn: this.id,
        peer: this.remoteAddress,
        queuedBytes: this.socket.writableLength,
      });
      this.abort();
    }
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.corkedBytes = 0;
    this.socket.uncork();
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    this.touched = true;
    this.decoder.append(chunk);
    // A pass that stopped early (turn used up, back-pressure) takes these bytes too when it continues.
    if (!this.framesHeld) this.readFrames(true);
  }

  /**
   * Handles the complete frames held, at most this connection's share of the turn, stopping under back-pressure.
   * `polled`: called from a read (the poll phase), where a setImmediate would still run in this same turn.
   */
  private readFrames(polled: boolean): void {
    const share = this.turnShare;
    let left = Number.POSITIVE_INFINITY;
    if (share !== undefined) {
      const turn = share.turn;
      if (turn !== this.turnSeen) {
        this.turnSeen = turn;
        this.framesInTurn = 0;
        share.activate();
      }
      left = share.share - this.framesInTurn;
    }
    for (;;) {
      if (this.backPressured || left <= 0) {
        this.setFramesHeld(true);
        // Under back-pressure resumeReading continues.
        if (!this.backPressured) this.continueNextTurn(polled);
        this.syncReading();
        return;
      }
      let frame: Buffer | undefined;
      try {
        frame = this.decoder.next();
      } catch (err) {
        this.protocolFault(err);
        return;
      }
      if (frame === undefined) break;
      left--;
      this.framesInTurn++;
      this.framesTaken = true;
      let cmd: RemotingCommand;
      try {
        cmd = decodeFrame(frame);
      } catch (err) {
        // Without a header there is no opaque to answer: the stream cannot be trusted any more.
        this.protocolFault(err);
        return;
      }
      if (isResponse(cmd)) this.complete(cmd);
      else this.dispatch(cmd);
      if (this.isClosed) return;
    }
    this.setFramesHeld(false);
    this.noteIncompleteFrame();
    this.syncReading();
  }

  /** The turn share counts connections with frames waiting as competing for the turn. */
  private setFramesHeld(held: boolean): void {
    if (held === this.framesHeld) return;
    this.framesHeld = held;
    this.turnShare?.waiting(held ? 1 : -1);
  }

  /** Continues readFrames in the next turn's check phase (from the poll phase that takes two immediates). */
  private continueNextTurn(polled: boolean): void {
    if (this.continuationScheduled) return;
    this.continuationScheduled = true;
    const go = () => {
      this.continuationScheduled = false;
      if (!this.isClosed) this.readFrames(false);
    };
    setImmediate(polled ? () => setImmediate(go) : go);
  }

  /** With every complete frame taken, what the decoder holds is one incomplete frame: time it and budget it. */
  private noteIncompleteFrame(): void {
    const held = this.decoder.pendingBytes;
    if (held === 0) this.partialSinceMs = -1;
    else if (this.framesTaken || this.partialSinceMs < 0) this.partialSinceMs = Date.now();
    this.framesTaken = false;
    // Over the server's budget, this connection may be the one closed.
    if (held !== this.heldReported) this.reportHeld(held);
  }

  private protocolFault(err: unknown): void {
    this.opts.log.warn('protocol error; closing connection', { conn: this.id, peer: this.remoteAddress, err });
    this.abort();
  }

  private complete(resp: RemotingCommand): void {
    if (!this.pending.complete(resp)) {
      this.opts.log.debug('response without pending request (timed out?)', { conn: this.id, opaque: resp.opaque });
    }
  }

  private dispatch(req: RemotingCommand): void {
    if (!isOneway(req)) this.unanswered++;
    const processor = this.opts.processorFor(req.code);
    if (processor === undefined) {
      if (!isOneway(req)) {
        this.trySend(
          createResponse(req, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, `request type ${req.code} not supported`),
        );
      }
      return;
    }
    const hooks = this.opts.hooks;
    if (hooks !== undefined && hooks.length > 0) {
      this.dispatchWithHooks(req, processor, hooks);
      return;
    }
    let result: ReturnType<Processor>;
    try {
      result = processor(req, this);
    } catch (err) {
      this.answerError(req, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (resp) => this.answer(req, resp),
        (err: unknown) => this.answerError(req, err),
      );
    } else {
      this.answer(req, result);
    }
  }

  /** dispatch with the before-hooks first and the after-hooks once the answer is known. */
  private dispatchWithHooks(req: RemotingCommand, processor: Processor, hooks: readonly RequestHook[]): void {
    const startMs = performance.now();
    let early: RemotingCommand | undefined;
    try {
      for (let i = 0; i < hooks.length && early === undefined; i++) early = hooks[i]?.before?.(req, this);
    } catch (err) {
      early = this.errorResponse(req, err);
    }
    if (early !== undefined) {
      this.finish(req, early, hooks, startMs);
      return;
    }
    let result: ReturnType<Processor>;
    try {
      result = processor(req, this);
    } catch (err) {
      this.finish(req, this.errorResponse(req, err), hooks, startMs);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (resp) => this.finish(req, resp, hooks, startMs),
        (err: unknown) => this.finish(req, this.errorResponse(req, err), hooks, startMs),
      );
    } else {
      this.finish(req, result, hooks, startMs);
    }
  }

  private finish(
    req: RemotingCommand,
    resp: RemotingCommand | undefined,
    hooks: readonly RequestHook[],
    startMs: number,
  ): void {
    this.answer(req, resp);
    const elapsedMs = performance.now() - startMs;
    for (const hook of hooks) {
      if (hook.after === undefined) continue;
      try {
        hook.after(req, resp, elapsedMs, this);
      } catch (err) {
        this.opts.log.error('request hook failed', { hook: hook.name, conn: this.id, err });
      }
    }
  }

  private answer(req: RemotingCommand, resp: RemotingCommand | undefined): void {
    if (resp === undefined) return;
    if (isOneway(req)) {
      resp.onWritten?.();
      return;
    }
    try {
      this.send(resp);
    } catch (err) {
      // e.g. a response over frameBytesMax: say so instead of leaving the caller to time out.
      this.answerError(req, err);
    }
  }

  private answerError(req: RemotingCommand, err: unknown): void {
    const resp = this.errorResponse(req, err);
    if (!isOneway(req)) this.trySend(resp);
  }

  /** Logs a processor's (or hook's) throw and turns it into the response: its code if known, else SYSTEM_ERROR. */
  private errorResponse(req: RemotingCommand, err: unknown): RemotingCommand {
    const known = err instanceof TsRocketError;
    const fields = { conn: this.id, code: requestCodeName(req.code), opaque: req.opaque, err };
    if (known) this.opts.log.debug('processor refused request', fields);
    else this.opts.log.error('processor failed', { ...fields, stack: (err as Error)?.stack });
    const code = known ? err.code : ResponseCode.SYSTEM_ERROR;
    const remark = err instanceof Error ? err.message : String(err);
    return createResponse(req, code, remark);
  }

  /** Sends, logging instead of throwing: used where a throw would become an unhandled rejection. */
  private trySend(cmd: RemotingCommand): void {
    try {
      this.send(cmd);
    } catch (err) {
      this.opts.log.error('could not send response', { conn: this.id, opaque: cmd.opaque, err });
    }
  }

  private reportHeld(held: number): void {
    const delta = held - this.heldReported;
    this.heldReported = held;
    this.opts.heldBytes?.held(delta);
  }

  private markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.setFramesHeld(false);
    // Nothing more is read: the incomplete frame's bytes go back to the server's budget.
    this.decoder.reset();
    this.partialSinceMs = -1;
    if (this.heldReported !== 0) this.reportHeld(0);
    this.pending.rejectAll(new RemotingClosedError(`connection to ${this.remoteAddress} closed`));
  }

  private onSocketClose(): void {
    this.markClosed();
    this.socketClosed = true;
    this.corked = false;
    for (const cb of this.closeCallbacks.splice(0)) {
      try {
        cb();
      } catch (err) {
        this.opts.log.error('close callback failed', { conn: this.id, err });
      }
    }
  }
}

export function formatAddress(ip: string | undefined, port: number | undefined): string {
  const host = ip?.startsWith('::ffff:') ? ip.slice(7) : (ip ?? 'unknown');
  return `${host}:${port ?? 0}`;
}
