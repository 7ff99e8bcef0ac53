/**
 * MessagingService RPC name → handler: one line per RPC. Producer side, routes and clients: GRPCA's files
 * (route/, client/, producer/, offsets/); consumption: consume/*.ts. An RPC not built yet answers
 * NOT_IMPLEMENTED at once.
 */
import { notBuiltStream, notBuiltUnary, type RpcEntry, unary } from './handler.js';
import { queryRoute } from './route/query-route.js';

export const serviceTable: Readonly<Record<string, RpcEntry>> = {
  QueryRoute: unary(queryRoute),
  Heartbeat: notBuiltUnary('Heartbeat'),
  SendMessage: notBuiltUnary('SendMessage'),
  QueryAssignment: notBuiltUnary('QueryAssignment'),
  ReceiveMessage: notBuiltStream('ReceiveMessage'),
  AckMessage: notBuiltUnary('AckMessage'),
  ForwardMessageToDeadLetterQueue: notBuiltUnary('ForwardMessageToDeadLetterQueue'),
  PullMessage: notBuiltStream('PullMessage'),
  UpdateOffset: notBuiltUnary('UpdateOffset'),
  GetOffset: notBuiltUnary('GetOffset'),
  QueryOffset: notBuiltUnary('QueryOffset'),
  EndTransaction: notBuiltUnary('EndTransaction'),
  Telemetry: notBuiltStream('Telemetry'),
  NotifyClientTermination: notBuiltUnary('NotifyClientTermination'),
  ChangeInvisibleDuration: notBuiltUnary('ChangeInvisibleDuration'),
  RecallMessage: notBuiltUnary('RecallMessage'),
  SyncLiteSubscription: notBuiltUnary('SyncLiteSubscription'),
};
