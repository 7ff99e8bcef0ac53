/**
 * CHECK_TRANSACTION_STATE (39), broker → producer: the broker asks a producer of a half message's group how its
 * local transaction ended. The body is the half message with its real topic; PGROUP names the group whose
 * transactional producer answers, with END_TRANSACTION (37, fromTransactionCheck) on the same connection.
 */
import { Prop } from '../common/properties.js';
import { RequestCode } from '../remoting/codes.js';
import { createRequest } from '../remoting/command.js';
import type { Processor } from '../remoting/connection.js';
import {
  type CheckTransactionStateRequestHeader,
  decodeCheckTransactionStateHeader,
  type EndTransactionRequestHeader,
  encodeEndTransactionHeader,
} from '../remoting/protocol/transaction.js';
import type { Logger } from './logger.js';
import { decodePulled, type ReceivedMessage } from './received-message.js';

/** A transactional producer's answer to a check: `reply` sends END_TRANSACTION back to the asking broker. */
export type TransactionChecker = (
  msg: ReceivedMessage,
  header: CheckTransactionStateRequestHeader,
  reply: (h: EndTransactionRequestHeader) => void,
) => void;

/** The client's processor for 39; it never answers (the request is oneway). */
export function checkTransactionStateProcessor(
  checkers: ReadonlyMap<string, TransactionChecker>,
  log: Logger,
): Processor {
  return (req, conn) => {
    let msg: ReceivedMessage | undefined;
    let header: CheckTransactionStateRequestHeader;
    try {
      header = decodeCheckTransactionStateHeader(req);
      msg = decodePulled(req.body ?? Buffer.alloc(0), { brokerName: '' }, (_pos, err) => {
        log.warn('a transaction check carries a message that does not decode', { broker: conn.remoteAddress, err });
      })[0];
    } catch (err) {
      log.warn('a malformed transaction check was ignored', { broker: conn.remoteAddress, err });
      return undefined;
    }
    if (msg === undefined) return undefined;
    const group = msg.properties.get(Prop.producerGroup) ?? '';
    const checker = checkers.get(group);
    if (checker === undefined) {
      log.warn('a transaction check names a producer group with no transactional producer here', {
        group,
        msgId: msg.msgId,
        broker: conn.remoteAddress,
      });
      return undefined;
    }
    checker(msg, header, (h) =>
      conn.invokeOneway(createRequest(RequestCode.END_TRANSACTION, encodeEndTransactionHeader(h))),
    );
    return undefined;
  };
}
