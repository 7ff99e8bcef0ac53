/**
 * RECALL_MESSAGE (370, RocketMQ 5.3): not served over remoting yet. Recalling a timer message is built for
 * gRPC clients (RecallMessage, src/proxy/producer/recall-message.ts, on broker/timer/recall.ts); this answer says
 * so rather than the bare "request code not supported".
 */
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';

export function recallMessageNotBuilt(_ctx: unknown, req: RemotingCommand): RemotingCommand {
  return createResponse(
    req,
    ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
    'RECALL_MESSAGE (370) over remoting is not built yet: recall timer messages with the gRPC RecallMessage',
  );
}
