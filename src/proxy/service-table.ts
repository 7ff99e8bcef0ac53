/**
 * MessagingService RPC name → handler: one line per RPC. Producer side, routes and clients: GRPCA's files
 * (route/, client/, producer/, offsets/); consumption: consume/*.ts. An RPC not built yet answers
 * NOT_IMPLEMENTED at once.
 */
import { heartbeat, notifyClientTermination } from './client/heartbeat.js';
import { telemetry } from './client/telemetry.js';
import { ackMessage } from './consume/ack-message.js';
import { changeInvisibleDuration } from './consume/change-invisible.js';
import { forwardMessageToDeadLetterQueue } from './consume/forward-dlq.js';
import { queryAssignment } from './consume/query-assignment.js';
import { receiveMessage } from './consume/receive-message.js';
import { bidi, notBuiltStream, notBuiltUnary, type RpcEntry, serverStream, unary } from './handler.js';
import { getOffset, queryOffset, updateOffset } from './offsets/offsets.js';
import { endTransaction } from './producer/end-transaction.js';
import { recallMessage } from './producer/recall-message.js';
import { sendMessage } from './producer/send-message.js';
import { queryRoute } from './route/query-route.js';

export const serviceTable: Readonly<Record<string, RpcEntry>> = {
  QueryRoute: unary(queryRoute),
  Heartbeat: unary(heartbeat),
  SendMessage: unary(sendMessage),
  QueryAssignment: unary(queryAssignment),
  ReceiveMessage: serverStream(receiveMessage),
  AckMessage: unary(ackMessage),
  ForwardMessageToDeadLetterQueue: unary(forwardMessageToDeadLetterQueue),
  PullMessage: notBuiltStream('PullMessage'),
  UpdateOffset: unary(updateOffset),
  GetOffset: unary(getOffset),
  QueryOffset: unary(queryOffset),
  EndTransaction: unary(endTransaction),
  Telemetry: bidi(telemetry),
  NotifyClientTermination: unary(notifyClientTermination),
  ChangeInvisibleDuration: unary(changeInvisibleDuration),
  RecallMessage: unary(recallMessage),
  SyncLiteSubscription: notBuiltUnary('SyncLiteSubscription'),
};
