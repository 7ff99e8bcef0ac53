/**
 * RemotingClient: one lazily created connection per `host:port`, requests matched to responses by opaque,
 * server-initiated requests dispatched to registered processors.
 */
import { connect, type Socket } from 'node:net';
import { createLogger } from '../common/log.js';
import { frameBytesMax as frameBytesMaxDefault } from './codec.js';
import { Flag, type RemotingCommand } from './command.js';
import { Channel, type Processor } from './connection.js';
import { RemotingClosedError, RemotingConnectError, RemotingTimeoutError } from './errors.js';

export interface RemotingClientOptions {
  /** Default 3000, as RocketMQ's connectTimeoutMillis. */
  connectTimeoutMs?: number;
  /** Used when invoke gets no timeout. Default 3000. */
  requestTimeoutMsDefault?: number;
  /** Requests awaiting a response, per connection. Default 65536. */
  pendingRequestsMax?: number;
  frameBytesMax?: number;
  /** Unsent bytes per connection past which the connection is dropped. Default 64 MiB. */
  writeBufferBytesMax?: number;
}

export const connectTimeoutMsDefault = 3000;
export const requestTimeoutMsDefault = 3000;
export const clientPendingRequestsMaxDefault = 65536;

const log = createLogger('remoting');

interface Connecting {
  promise: Promise<Channel>;
  socket: Socket;
}

export class RemotingClient {
  private readonly opts: Required<RemotingClientOptions>;
  private readonly processors = new Map<number, Processor>();
  private readonly channels = new Map<string, Channel>();
  private readonly connecting = new Map<string, Connecting>();
  private nextId = 0;
  private isClosed = false;

  constructor(opts: RemotingClientOptions = {}) {
    this.opts = {
      connectTimeoutMs: opts.connectTimeoutMs ?? connectTimeoutMsDefault,
      requestTimeoutMsDefault: opts.requestTimeoutMsDefault ?? requestTimeoutMsDefault,
      pendingRequestsMax: opts.pendingRequestsMax ?? clientPendingRequestsMaxDefault,
      frameBytesMax: opts.frameBytesMax ?? frameBytesMaxDefault,
      writeBufferBytesMax: opts.writeBufferBytesMax ?? 64 * 1024 * 1024,
    };
  }

  /**
   * Sends `req` to `addr` and resolves with the response (whatever its code). The timeout covers connecting too.
   * Rejects with RemotingConnectError, RemotingTimeoutError, RemotingSendError or RemotingClosedError.
   */
  invoke(addr: string, req: RemotingCommand, timeoutMs?: number): Promise<RemotingCommand> {
    // An open connection is written to in this same turn: a caller that encodes and invokes in turn (several
    // big requests at once) has each one on the wire before it encodes the next, instead of all at the end.
    const open = this.isClosed ? undefined : this.channels.get(addr);
    if (open !== undefined && !open.closed) return open.invoke(req, timeoutMs ?? this.opts.requestTimeoutMsDefault);
    return this.invokeConnecting(addr, req, timeoutMs);
  }

  private async invokeConnecting(addr: string, req: RemotingCommand, timeoutMs?: number): Promise<RemotingCommand> {
    const budgetMs = timeoutMs ?? this.opts.requestTimeoutMsDefault;
    const startedMs = Date.now();
    const channel = await this.channel(addr, budgetMs);
    const leftMs = budgetMs - (Date.now() - startedMs);
    if (leftMs <= 0) throw new RemotingTimeoutError(`connecting to ${addr} used the whole ${budgetMs} ms timeout`);
    return channel.invoke(req, leftMs);
  }

  /** Sends a request that gets no response; resolves once written to the socket. */
  async invokeOneway(addr: string, req: RemotingCommand): Promise<void> {
    const channel = await this.channel(addr, this.opts.connectTimeoutMs);
    await channel.sendAndFlush({ ...req, flag: req.flag | Flag.oneway });
  }

  /** Oneway frames already encoded (e.g. a turn's END_TRANSACTIONs), in one socket write; resolves once written. */
  async writeOneway(addr: string, frames: Buffer): Promise<void> {
    const channel = await this.channel(addr, this.opts.connectTimeoutMs);
    await channel.sendEncodedAndFlush(frames);
  }

  /** Handles requests the server sends (e.g. 40 NOTIFY_CONSUMER_IDS_CHANGED, 39 CHECK_TRANSACTION_STATE). */
  registerProcessor(code: number, p: Processor): void {
    this.processors.set(code, p);
  }

  /** Closes the connection to `addr` (its pending requests reject); the next invoke reconnects. */
  closeConnection(addr: string): void {
    this.connecting.get(addr)?.socket.destroy();
    this.channels.get(addr)?.close();
  }

  /** Rejects everything pending and closes every connection; afterwards invokes reject. */
  async close(): Promise<void> {
    this.isClosed = true;
    for (const c of this.connecting.values()) c.socket.destroy();
    const closing = [...this.channels.values()].map((ch) => {
      ch.close();
      return ch.whenClosed();
    });
    await Promise.all(closing);
  }

  private channel(addr: string, timeoutMs: number): Promise<Channel> {
    if (this.isClosed) return Promise.reject(new RemotingClosedError('remoting client is closed'));
    const existing = this.channels.get(addr);
    if (existing !== undefined && !existing.closed) return Promise.resolve(existing);
    const inFlight = this.connecting.get(addr);
    if (inFlight !== undefined) return inFlight.promise;
    return this.connect(addr, Math.min(timeoutMs, this.opts.connectTimeoutMs));
  }

  private connect(addr: string, timeoutMs: number): Promise<Channel> {
    const colon = addr.lastIndexOf(':');
    const host = addr.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(addr.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
      return Promise.reject(new RemotingConnectError(`bad address '${addr}': expected host:port`));
    }
    const socket = connect({ host, port });
    const promise = new Promise<Channel>((resolve, reject) => {
      let settled = false;
      const forget = () => {
        settled = true;
        clearTimeout(timer);
        if (this.connecting.get(addr)?.socket === socket) this.connecting.delete(addr);
      };
      const fail = (err: Error) => {
        if (settled) return;
        forget();
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new RemotingConnectError(`connect to ${addr} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.once('error', (err) =>
        fail(new RemotingConnectError(`connect to ${addr} failed: ${err.message}`, { cause: err })),
      );
      socket.once('close', () => fail(new RemotingConnectError(`connect to ${addr} was aborted`)));
      socket.once('connect', () => {
        if (settled) return;
        forget();
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        if (this.isClosed) {
          socket.destroy();
          reject(new RemotingClosedError('remoting client is closed'));
          return;
        }
        resolve(this.adopt(addr, socket));
      });
    });
    this.connecting.set(addr, { promise, socket });
    return promise;
  }

  private adopt(addr: string, socket: Socket): Channel {
    const channel = new Channel(socket, {
      id: ++this.nextId,
      frameBytesMax: this.opts.frameBytesMax,
      pendingRequestsMax: this.opts.pendingRequestsMax,
      writeBufferBytesMax: this.opts.writeBufferBytesMax,
      processorFor: (code) => this.processors.get(code),
      log,
    });
    this.channels.set(addr, channel);
    log.debug('connected', { addr, conn: channel.id });
    channel.onClose(() => {
      if (this.channels.get(addr) === channel) this.channels.delete(addr);
      log.debug('connection closed', { addr, conn: channel.id });
    });
    return channel;
  }
}
