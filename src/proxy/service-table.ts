/**
 * MessagingService RPC name → handler: one line per RPC. Producer side, routes and clients: GRPCA's files
 * (route/, client/, producer/, offsets/); consumption: consume/*.ts. An RPC not built yet answers
 * NOT_IMPLEMENTED at once.
 */
import { heartbeat, notifyClientTermination } from './client/heartbeat.js';
import { telemetry } from './client/telemetry.js';
import { bidi, notBuiltStream, notBuiltUnary, type RpcEntry, unary } from './handler.js';
import { getOffset, queryOffset, updateOffset } from './offsets/offsets.js';
import { endTransaction } from './producer/end-transaction.js';
import { recallMessage } from './producer/recall-message.js';
import { sendMessage } from './producer/send-message.js';
import { queryRoute } from './route/query-route.js';

export const serviceTable: Readonly<Record<string, RpcEntry>> = {
  QueryRoute: unary(queryRoute),
  Heartbeat: unary(heartbeat),
  SendMessage: unary(sendMessage),
  QueryAssignment: notBuiltUnary('QueryAssignment'),
  ReceiveMessage: notBuiltStream('ReceiveMessage'),
  AckMessage: notBuiltUnary('AckMessage'),
  ForwardMessageToDeadLetterQueue: notBuiltUnary('ForwardMessageToDeadLetterQueue'),
  PullMessage: notBuiltStream('PullMessage'),
  UpdateOffset: unary(updateOffset),
  GetOffset: unary(getOffset),
  QueryOffset: unary(queryOffset),
  EndTransaction: unary(endTransaction),
  Telemetry: bidi(telemetry),
  NotifyClientTermination: unary(notifyClientTermination),
  ChangeInvisibleDuration: notBuiltUnary('ChangeInvisibleDuration'),
  RecallMessage: unary(recallMessage),
  SyncLiteSubscription: notBuiltUnary('SyncLiteSubscription'),
};
