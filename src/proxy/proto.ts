/**
 * apache.rocketmq.v2 as loaded from Apache's vendored .proto files (proto/apache/rocketmq/v2, see
 * docs/dependencies.md): the MessagingService definition for the server, and the TS shapes of the loaded messages
 * the handlers read and write. The schema is the .proto; these interfaces only type what proto-loader yields with
 * keepCase false (camelCase), longs as String, enums as their names, defaults on and oneof names set.
 */
import { fileURLToPath } from 'node:url';
import { type GrpcObject, loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { TopicMessageType } from '../common/topics.js';

/** The vendored proto root (proto/ of the package, beside dist/). */
export const protoRoot = fileURLToPath(new URL('../../../proto/', import.meta.url));

export const protoLoadOptions: Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

let loaded: GrpcObject | undefined;

/** The apache.rocketmq.v2 package (loaded once, on first use). */
export function rocketmqV2(): GrpcObject {
  if (loaded === undefined) {
    const def = loadSync('apache/rocketmq/v2/service.proto', protoLoadOptions);
    const root = loadPackageDefinition(def) as unknown as { apache: { rocketmq: { v2: GrpcObject } } };
    loaded = root.apache.rocketmq.v2;
  }
  return loaded;
}

/** MessagingService's definition, keyed by RPC name ("QueryRoute", …). */
export function messagingServiceDefinition(): ServiceDefinition {
  return (rocketmqV2()['MessagingService'] as unknown as { service: ServiceDefinition }).service;
}

/** apache.rocketmq.v2.Code names (enums load as their names). */
export const Code = {
  OK: 'OK',
  MULTIPLE_RESULTS: 'MULTIPLE_RESULTS',
  BAD_REQUEST: 'BAD_REQUEST',
  ILLEGAL_ACCESS_POINT: 'ILLEGAL_ACCESS_POINT',
  ILLEGAL_TOPIC: 'ILLEGAL_TOPIC',
  ILLEGAL_CONSUMER_GROUP: 'ILLEGAL_CONSUMER_GROUP',
  ILLEGAL_MESSAGE_TAG: 'ILLEGAL_MESSAGE_TAG',
  ILLEGAL_MESSAGE_KEY: 'ILLEGAL_MESSAGE_KEY',
  ILLEGAL_MESSAGE_GROUP: 'ILLEGAL_MESSAGE_GROUP',
  ILLEGAL_MESSAGE_PROPERTY_KEY: 'ILLEGAL_MESSAGE_PROPERTY_KEY',
  INVALID_TRANSACTION_ID: 'INVALID_TRANSACTION_ID',
  ILLEGAL_MESSAGE_ID: 'ILLEGAL_MESSAGE_ID',
  ILLEGAL_FILTER_EXPRESSION: 'ILLEGAL_FILTER_EXPRESSION',
  ILLEGAL_INVISIBLE_TIME: 'ILLEGAL_INVISIBLE_TIME',
  ILLEGAL_DELIVERY_TIME: 'ILLEGAL_DELIVERY_TIME',
  INVALID_RECEIPT_HANDLE: 'INVALID_RECEIPT_HANDLE',
  MESSAGE_PROPERTY_CONFLICT_WITH_TYPE: 'MESSAGE_PROPERTY_CONFLICT_WITH_TYPE',
  UNRECOGNIZED_CLIENT_TYPE: 'UNRECOGNIZED_CLIENT_TYPE',
  MESSAGE_CORRUPTED: 'MESSAGE_CORRUPTED',
  CLIENT_ID_REQUIRED: 'CLIENT_ID_REQUIRED',
  ILLEGAL_POLLING_TIME: 'ILLEGAL_POLLING_TIME',
  ILLEGAL_OFFSET: 'ILLEGAL_OFFSET',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  MESSAGE_NOT_FOUND: 'MESSAGE_NOT_FOUND',
  TOPIC_NOT_FOUND: 'TOPIC_NOT_FOUND',
  CONSUMER_GROUP_NOT_FOUND: 'CONSUMER_GROUP_NOT_FOUND',
  OFFSET_NOT_FOUND: 'OFFSET_NOT_FOUND',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  MESSAGE_BODY_TOO_LARGE: 'MESSAGE_BODY_TOO_LARGE',
  MESSAGE_BODY_EMPTY: 'MESSAGE_BODY_EMPTY',
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  REQUEST_HEADER_FIELDS_TOO_LARGE: 'REQUEST_HEADER_FIELDS_TOO_LARGE',
  MESSAGE_PROPERTIES_TOO_LARGE: 'MESSAGE_PROPERTIES_TOO_LARGE',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  HA_NOT_AVAILABLE: 'HA_NOT_AVAILABLE',
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED',
  PROXY_TIMEOUT: 'PROXY_TIMEOUT',
  MASTER_PERSISTENCE_TIMEOUT: 'MASTER_PERSISTENCE_TIMEOUT',
  SLAVE_PERSISTENCE_TIMEOUT: 'SLAVE_PERSISTENCE_TIMEOUT',
  UNSUPPORTED: 'UNSUPPORTED',
  VERSION_UNSUPPORTED: 'VERSION_UNSUPPORTED',
  VERIFY_FIFO_MESSAGE_UNSUPPORTED: 'VERIFY_FIFO_MESSAGE_UNSUPPORTED',
  FAILED_TO_CONSUME_MESSAGE: 'FAILED_TO_CONSUME_MESSAGE',
} as const;
export type Code = (typeof Code)[keyof typeof Code];

export interface Status {
  code: Code;
  message: string;
}

/** A Status value (the response field every RPC answers with). */
export function status(code: Code, message = code === Code.OK ? 'OK' : code): Status {
  return { code, message };
}

/** google.protobuf.Duration / Timestamp with longs as strings. */
export interface Duration {
  seconds: string;
  nanos: number;
}
export type Timestamp = Duration;

export function durationMsOf(d: Duration | null | undefined): number | undefined {
  return d == null ? undefined : Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
}

export function durationOfMs(ms: number): Duration {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

export const timestampMsOf = durationMsOf;
export const timestampOfMs = durationOfMs;

export interface Resource {
  resourceNamespace: string;
  name: string;
}

export type ClientType =
  | 'CLIENT_TYPE_UNSPECIFIED'
  | 'PRODUCER'
  | 'PUSH_CONSUMER'
  | 'SIMPLE_CONSUMER'
  | 'PULL_CONSUMER'
  | 'LITE_PUSH_CONSUMER'
  | 'LITE_SIMPLE_CONSUMER';
/** apache.rocketmq.v2.MessageType names; the four a topic can be typed with are RocketMQ's TopicMessageType names. */
export const MessageType = {
  MESSAGE_TYPE_UNSPECIFIED: 'MESSAGE_TYPE_UNSPECIFIED',
  NORMAL: TopicMessageType.NORMAL,
  FIFO: TopicMessageType.FIFO,
  DELAY: TopicMessageType.DELAY,
  TRANSACTION: TopicMessageType.TRANSACTION,
  LITE: 'LITE',
  PRIORITY: 'PRIORITY',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];
export type Permission = 'PERMISSION_UNSPECIFIED' | 'NONE' | 'READ' | 'WRITE' | 'READ_WRITE';
export type Encoding = 'ENCODING_UNSPECIFIED' | 'IDENTITY' | 'GZIP';
export type FilterType = 'FILTER_TYPE_UNSPECIFIED' | 'TAG' | 'SQL';

export interface Address {
  host: string;
  port: number;
}
export interface Endpoints {
  scheme: 'ADDRESS_SCHEME_UNSPECIFIED' | 'IPv4' | 'IPv6' | 'DOMAIN_NAME';
  addresses: Address[];
}
export interface Broker {
  name: string;
  id: number;
  endpoints: Endpoints | null;
}
export interface MessageQueue {
  topic: Resource | null;
  id: number;
  permission: Permission;
  broker: Broker | null;
  acceptMessageTypes: MessageType[];
}
export interface FilterExpression {
  type: FilterType;
  expression: string;
}
export interface Digest {
  type: 'DIGEST_TYPE_UNSPECIFIED' | 'CRC32' | 'MD5' | 'SHA1';
  checksum: string;
}

/** SystemProperties; `optional` fields are absent (undefined/null) when unset. */
export interface SystemProperties {
  tag?: string | null;
  keys: string[];
  messageId: string;
  bodyDigest: Digest | null;
  bodyEncoding: Encoding;
  messageType: MessageType;
  bornTimestamp: Timestamp | null;
  bornHost: string;
  storeTimestamp?: Timestamp | null;
  storeHost: string;
  deliveryTimestamp?: Timestamp | null;
  receiptHandle?: string | null;
  queueId: number;
  queueOffset?: string | null;
  invisibleDuration?: Duration | null;
  deliveryAttempt?: number | null;
  messageGroup?: string | null;
  traceContext?: string | null;
  orphanedTransactionRecoveryDuration?: Duration | null;
  deadLetterQueue?: { topic: string; messageId: string } | null;
  liteTopic?: string | null;
  priority?: number | null;
}

export interface Message {
  topic: Resource | null;
  userProperties: Record<string, string>;
  systemProperties: SystemProperties | null;
  body: Buffer;
}

export interface RetryPolicy {
  maxAttempts: number;
  exponentialBackoff?: { initial: Duration; max: Duration; multiplier: number } | null;
  customizedBackoff?: { next: Duration[] } | null;
  strategy?: 'exponentialBackoff' | 'customizedBackoff';
}
export interface Publishing {
  topics: Resource[];
  maxBodySize: number;
  validateMessageType: boolean;
}
export interface SubscriptionEntry {
  topic: Resource | null;
  expression: FilterExpression | null;
}
export interface Subscription {
  group?: Resource | null;
  subscriptions: SubscriptionEntry[];
  fifo?: boolean | null;
  receiveBatchSize?: number | null;
  longPollingTimeout?: Duration | null;
}
export interface Settings {
  clientType?: ClientType | null;
  accessPoint?: Endpoints | null;
  backoffPolicy?: RetryPolicy | null;
  requestTimeout?: Duration | null;
  publishing?: Publishing | null;
  subscription?: Subscription | null;
  pubSub?: 'publishing' | 'subscription';
  userAgent?: { language: string; version: string; platform: string; hostname: string } | null;
  metric?: { on: boolean } | null;
}

export interface TelemetryCommand {
  status?: Status | null;
  settings?: Settings | null;
  threadStackTrace?: { nonce: string; threadStackTrace?: string | null } | null;
  verifyMessageResult?: { nonce: string } | null;
  recoverOrphanedTransactionCommand?: { message: Message; transactionId: string } | null;
  printThreadStackTraceCommand?: { nonce: string } | null;
  verifyMessageCommand?: { nonce: string; message: Message } | null;
  reconnectEndpointsCommand?: { nonce: string } | null;
  command?: string;
}
