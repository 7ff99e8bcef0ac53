/**
 * A gRPC client as the broker's client registry sees it: a RemotingConnection whose server-initiated requests go
 * over the client's Telemetry stream (RocketMQ's GrpcClientChannel). CHECK_TRANSACTION_STATE (39) becomes a
 * RecoverOrphanedTransactionCommand, so the transaction check pass reaches a gRPC producer as any other producer;
 * notifications 5.x clients have no use for (consumer ids changed, …) are dropped.
 */
import { decodeRecord } from '../../common/record.js';
import { RequestCode } from '../../remoting/codes.js';
import type { RemotingCommand } from '../../remoting/command.js';
import type { RemotingConnection } from '../../remoting/connection.js';
import { decodeCheckTransactionStateHeader } from '../../remoting/protocol/transaction.js';
import { orphanedMessageOf } from '../producer/orphaned-message.js';
import type { ClientSession } from './sessions.js';

// Above any remoting connection id, so logs tell them apart.
let nextId = 1_000_000_000;

export class GrpcClientChannel implements RemotingConnection {
  readonly id = nextId++;
  private isClosed = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    private readonly session: ClientSession,
    /** The client's "ip:port". */
    readonly remoteAddress: string,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Responses have no meaning here: a gRPC client sends no remoting requests. */
  send(_cmd: RemotingCommand): void {}

  invoke(req: RemotingCommand, _timeoutMs: number): Promise<RemotingCommand> {
    return Promise.reject(new Error(`request ${req.code} cannot be sent to gRPC client ${this.session.clientId}`));
  }

  invokeOneway(req: RemotingCommand): void {
    if (this.isClosed || req.code !== RequestCode.CHECK_TRANSACTION_STATE || req.body === undefined) return;
    const telemetry = this.session.telemetry;
    if (telemetry === undefined || telemetry.closed) return;
    const h = decodeCheckTransactionStateHeader(req);
    const msg = decodeRecord(req.body).msg;
    // EndTransaction resolves the transaction id back to this copy of the half message.
    telemetry.write({
      recoverOrphanedTransactionCommand: { message: orphanedMessageOf(msg), transactionId: h.offsetMsgId ?? '' },
    });
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const cb of this.closeListeners.splice(0)) cb();
  }

  onClose(cb: () => void): void {
    if (this.isClosed) cb();
    else this.closeListeners.push(cb);
  }
}
