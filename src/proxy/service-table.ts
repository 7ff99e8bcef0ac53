/**
 * MessagingService RPC name → handler: one line per RPC. Producer side, routes and clients: GRPCA's files
 * (route/, client/, producer/, offsets/); consumption: consume/*.ts. An RPC not built yet answers
 * NOT_IMPLEMENTED at once.
 */
import { ackMessage } from './consume/ack-message.js';
import { changeInvisibleDuration } from './consume/change-invisible.js';
import { forwardMessageToDeadLetterQueue } from './consume/forward-dlq.js';
import { queryAssignment } from './consume/query-assignment.js';
import { receiveMessage } from './consume/receive-message.js';
import { notBuiltStream, notBuiltUnary, type RpcEntry, serverStream, unary } from './handler.js';
import { queryRoute } from './route/query-route.js';

export const serviceTable: Readonly<Record<string, RpcEntry>> = {
  QueryRoute: unary(queryRoute),
  Heartbeat: notBuiltUnary('Heartbeat'),
  SendMessage: notBuiltUnary('SendMessage'),
  QueryAssignment: unary(queryAssignment),
  ReceiveMessage: serverStream(receiveMessage),
  AckMessage: unary(ackMessage),
  ForwardMessageToDeadLetterQueue: unary(forwardMessageToDeadLetterQueue),
  PullMessage: notBuiltStream('PullMessage'),
  UpdateOffset: notBuiltUnary('UpdateOffset'),
  GetOffset: notBuiltUnary('GetOffset'),
  QueryOffset: notBuiltUnary('QueryOffset'),
  EndTransaction: notBuiltUnary('EndTransaction'),
  Telemetry: notBuiltStream('Telemetry'),
  NotifyClientTermination: notBuiltUnary('NotifyClientTermination'),
  ChangeInvisibleDuration: unary(changeInvisibleDuration),
  RecallMessage: notBuiltUnary('RecallMessage'),
  SyncLiteSubscription: notBuiltUnary('SyncLiteSubscription'),
};
