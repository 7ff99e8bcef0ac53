/** The answer of a stored send (SEND_MESSAGE 10/310/320), shared by the plain and the de-duplicated paths. */
import type { RemotingCommand } from '../../remoting/command.js';
import { createResponse, Flag, ourLanguage, ourVersion } from '../../remoting/command.js';
import { encodeSendResponseHeader } from '../../remoting/protocol/send.js';
import type { BrokerContext } from '../context.js';
import type { PutAnswer } from '../put/put-status.js';
import type { PutMessage } from '../put/types.js';

/** A half message answers the queue it was sent to, as RocketMQ: its committed copy goes there. */
export function answeredQueueId(first: PutMessage, queueIdSent: number): number {
  return first.transactionPrepared === true ? queueIdSent : first.queueId;
}

/** The answer field of the offsetMsgIds, for RemotingCommand.plainFields. */
const msgIdPlain: ReadonlySet<string> = new Set(['msgId']);

/**
 * The response of a stored (or de-duplicated) send. `msgIdHex`: msgId is a store's OffsetMsgIdText (hex digits and
 * commas only), so the encoders write it without checking it.
 */
export function sendResponse(
  ctx: BrokerContext,
  req: RemotingCommand,
  answer: PutAnswer,
  msgId: string,
  queueId: number,
  queueOffset: bigint,
  msgIdHex = false,
): RemotingCommand {
  const extFields = encodeSendResponseHeader({
    msgId,
    queueId,
    queueOffset,
    msgRegion: ctx.config.regionId,
    traceOn: ctx.config.traceOn,
  });
  if (!msgIdHex) {
    const resp = createResponse(req, answer.code, answer.remark);
    resp.extFields = extFields;
    return resp;
  }
  // createResponse's fields and plainFields in one literal (a property added later grows the object).
  return {
    code: answer.code,
    language: ourLanguage,
    version: ourVersion,
    opaque: req.opaque,
    flag: Flag.response,
    remark: answer.remark,
    extFields,
    serializeType: req.serializeType,
    body: undefined,
    plainFields: msgIdPlain,
  };
}
