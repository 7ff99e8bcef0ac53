/** The answer of a stored send (SEND_MESSAGE 10/310/320), shared by the plain and the de-duplicated paths. */
import type { RemotingCommand } from '../../remoting/command.js';
import { createResponse } from '../../remoting/command.js';
import { encodeSendResponseHeader } from '../../remoting/protocol/send.js';
import type { BrokerContext } from '../context.js';
import type { PutAnswer } from '../put/put-status.js';
import type { PutMessage } from '../put/types.js';

/** A half message answers the queue it was sent to, as RocketMQ: its committed copy goes there. */
export function answeredQueueId(first: PutMessage, queueIdSent: number): number {
  return first.transactionPrepared === true ? queueIdSent : first.queueId;
}

/** The response of a stored (or de-duplicated) send. */
export function sendResponse(
  ctx: BrokerContext,
  req: RemotingCommand,
  answer: PutAnswer,
  msgId: string,
  queueId: number,
  queueOffset: bigint,
): RemotingCommand {
  const resp = createResponse(req, answer.code, answer.remark);
  resp.extFields = encodeSendResponseHeader({
    msgId,
    queueId,
    queueOffset,
    msgRegion: ctx.config.regionId,
    traceOn: ctx.config.traceOn,
  });
  return resp;
}
