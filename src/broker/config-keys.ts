/**
 * The broker's table of known keys (broker.conf): type, default, allowed values, meaning and status. Keys of
 * features not built yet are refused when changed, so a broker.conf never asks for something silently absent;
 * each such refusal is lifted by the issue that builds the feature. docs/configuration.md is checked against
 * this table by a test.
 */
import os from 'node:os';
import path from 'node:path';
import { type ConfigKey, type ConfigSchema, hostPortProblem, inertKey, isIPv4 } from '../common/config.js';
import { SystemTopic } from '../common/topics.js';
import { checkTopicName } from '../common/validate.js';
import { nettyServerInertKeys, serverConnectionKeys } from '../remoting/limits.js';
import { nodeFlagsProblem } from '../remoting/node-flags.js';
import { storeKeyAliases, storeKeys, storePlannedKeys } from '../store/config.js';
import type { BrokerConfig } from './config.js';

const positive = { kind: 'int', min: 1 } as const;
const port = { kind: 'int', min: 0, max: 65535 } as const;

function namesrvAddrProblem(v: string): string | undefined {
  for (const addr of v.split(/[;,]/).map((s) => s.trim())) {
    if (addr === '') continue;
    const problem = hostPortProblem(addr);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Keys of BrokerConfig: what the broker reads. */
export const brokerKeys: { readonly [K in keyof BrokerConfig]-?: ConfigKey<BrokerConfig[K]> } = {
  brokerClusterName: { kind: 'string', default: 'DefaultCluster', doc: 'Cluster the broker registers in.' },
  brokerName: {
    kind: 'string',
    default: 'broker-a',
    check: (v) => (/^[%|a-zA-Z0-9_-]{1,127}$/.test(v) ? undefined : 'expected 1-127 of [%|a-zA-Z0-9_-]'),
    doc: 'Broker group name; queues of a topic are addressed by it.',
  },
  brokerId: {
    kind: 'int',
    default: 0,
    min: 0,
    notBuilt: { feature: 'replicas (brokerId > 0, HA replication)' },
    doc: '0 = master. Replicas (> 0) need HA replication.',
  },
  brokerRole: {
    kind: 'string',
    default: 'ASYNC_MASTER',
    values: ['ASYNC_MASTER', 'SYNC_MASTER', 'SLAVE'],
    notBuilt: { feature: 'HA replication (SYNC_MASTER, SLAVE)', values: ['SYNC_MASTER', 'SLAVE'] },
    doc: 'ASYNC_MASTER; SYNC_MASTER and SLAVE need HA replication. Reported as configured.',
  },
  listenPort: { ...port, default: 10911, doc: 'TCP port (0 = any free port).' },
  namesrvAddr: {
    kind: 'string',
    default: '',
    check: namesrvAddrProblem,
    doc: 'NameServers to register with, "host:port;host:port"; empty registers nowhere.',
  },
  brokerIP1: {
    kind: 'string',
    default: '',
    defaultText: '(chosen at start)',
    check: (v) => (v === '' || isIPv4(v) ? undefined : 'expected an IPv4 address (records store 4-byte hosts)'),
    doc:
      'Address registered with NameServers and stored as store host. Unset: the bind address, or when bound to ' +
      'every interface the first non-loopback IPv4 interface (127.0.0.1 if none).',
  },
  listenHost: {
    kind: 'string',
    default: '0.0.0.0',
    tsrocket: true,
    doc: 'Address to listen on; also accepted as bindAddress (RocketMQ 5).',
  },
  nodeFlags: {
    kind: 'string',
    default: '',
    tsrocket: true,
    check: nodeFlagsProblem,
    doc:
      'Node/V8 flags the broker process runs with, space-separated: --single-threaded-gc (no GC helper threads: ' +
      'shorter pauses when every core is busy), --no-incremental-marking (old-generation marking in one pause: ' +
      'less broker CPU per message under a send flood, longer full pauses), --max-semi-space-size=MiB, ' +
      '--min-semi-space-size=MiB, ' +
      '--max-old-space-size=MiB. Collector flags only act when V8 starts, so `tsrocket start` and `tsrocket ' +
      'broker` re-run themselves with them (one more Node start); the first process stays as a launcher that passes ' +
      'signals on, and its death ends the broker. Empty (the default): no re-run.',
  },
  enableGrpc: {
    kind: 'bool',
    default: false,
    tsrocket: true,
    doc:
      "Serve RocketMQ 5's gRPC MessagingService (Apache's 5.x clients) on grpcServerPort, in the broker process " +
      "(like RocketMQ's local proxy mode). `tsrocket start` and `tsrocket broker` turn it on.",
  },
  grpcServerPort: {
    ...port,
    default: 8081,
    doc:
      'Port of the gRPC endpoint (RocketMQ ProxyConfig grpcServerPort; 0 = any free port). `tsrocket start` and ' +
      '`tsrocket broker` pick 0 when the broker port is 0.',
  },
  autoCreateTopicEnable: {
    kind: 'bool',
    default: true,
    doc: `Create a topic on its first send (from ${SystemTopic.autoCreate}).`,
  },
  autoCreateSubscriptionGroup: { kind: 'bool', default: true, doc: 'Create a consumer group on first use.' },
  autoCreateTopicMax: {
    ...positive,
    default: 5000,
    tsrocket: true,
    doc:
      'A send auto-creates its topic only while the broker holds fewer topics than this (retry and DLQ topics ' +
      'not counted); past it the send is answered TOPIC_NOT_EXIST naming this key. Admin creation is not limited.',
  },
  dedupKeysPerTopicMax: {
    ...positive,
    default: 100_000,
    tsrocket: true,
    doc:
      "Producer de-duplication (topic attribute dedup.window.ms): UNIQ_KEYs one topic's table holds at most " +
      '(about 370 bytes each, so 100 000 ≈ 36 MiB). Past it the oldest keys leave the table before their window ends (counted as ' +
      'dedupEvicted in brokerStatus) and a resend of one of them is stored again.',
  },
  autoCreateSubscriptionGroupMax: {
    ...positive,
    default: 10_000,
    tsrocket: true,
    doc:
      'A pull, heartbeat or offset commit auto-creates its group only while the broker holds fewer groups than ' +
      'this; past it the request is answered SUBSCRIPTION_GROUP_NOT_EXIST naming this key.',
  },
  defaultTopicQueueNums: { ...positive, default: 8, max: 1024, doc: 'Queues of an auto-created topic.' },
  brokerPermission: {
    kind: 'int',
    default: 6,
    values: [2, 4, 6],
    doc: 'PermName bits of the broker: 2 write, 4 read, 6 both.',
  },
  registerBrokerTimeoutMills: { ...positive, default: 6000, doc: 'Timeout of one REGISTER_BROKER (ms).' },
  registerNameServerPeriod: {
    ...positive,
    default: 30_000,
    // RocketMQ clamps it to 10-60 s; past 60 s the NameServers' 120 s expiry and idle reaping would drop routes.
    min: 10_000,
    max: 60_000,
    doc: 'Period of REGISTER_BROKER to every NameServer (ms, 10,000 to 60,000).',
  },
  storePathRootDir: {
    kind: 'string',
    default: path.join(os.homedir(), 'store'),
    defaultText: '~/store (tsrocket start: <data>/broker)',
    doc: 'Root of the store and of the metadata files (config/).',
  },
  regionId: { kind: 'string', default: 'DefaultRegion', doc: 'Written as the MSG_REGION property of stored messages.' },
  traceOn: { kind: 'bool', default: true, doc: 'Written as the TRACE_ON property of stored messages.' },
  traceTopicEnable: {
    kind: 'bool',
    default: false,
    doc: 'Create the message trace topic (msgTraceTopicName) at start. `tsrocket start` turns it on.',
  },
  msgTraceTopicName: {
    kind: 'string',
    default: SystemTopic.trace,
    check: (v: string) => checkTopicName(v),
    doc: 'Name of the message trace topic created when traceTopicEnable is on.',
  },
  storeReplyMessageEnable: {
    kind: 'bool',
    default: true,
    doc: 'Also store request-reply replies in the reply topic of the cluster (they are pushed to the requester either way).',
  },
  maxMessageSize: { ...positive, default: 4 * 1024 * 1024, doc: 'Largest message body accepted (bytes).' },
  maxPropertiesBytes: {
    ...positive,
    default: 32 * 1024 - 1,
    max: 32767,
    tsrocket: true,
    doc: 'Largest encoded properties string accepted (bytes).',
  },
  longPollingEnable: { kind: 'bool', default: true, doc: 'Hold pulls that find nothing until a message arrives.' },
  enablePropertyFilter: {
    kind: 'bool',
    default: false,
    doc: 'Serve SQL92 subscriptions (MessageSelector.bySql); off, they are refused as RocketMQ refuses them. `tsrocket start` turns it on.',
  },
  enableCalcFilterBitMap: {
    kind: 'bool',
    default: false,
    doc: 'Keep the SQL92 filter bitmap: each new message of a topic with SQL92 subscriptions is judged once per subscribing group when stored (64 bloom bits per message in `filterbitmap/`, 20 bytes per ConsumeQueue entry), and pulls skip the messages a group did not match without reading them. Needs enablePropertyFilter. `tsrocket start` turns it on.',
  },
  longPollingHoldMsMax: {
    ...positive,
    default: 25_000,
    tsrocket: true,
    doc: "Cap on how long a pull is held (ms); below the clients' 30 s timeout.",
  },
  longPollingSweepMs: {
    ...positive,
    default: 200,
    tsrocket: true,
    doc: 'Period of the held-pull deadline sweep (ms).',
  },
  flushConsumerOffsetInterval: { ...positive, default: 5000, doc: 'Period of consumer offset persistence (ms).' },
  reviveInterval: {
    ...positive,
    default: 1000,
    doc: 'Period of the POP revive pass (ms): a popped message unacked past its invisible time comes back from the POP retry topic of its group.',
  },
  reviveQueueNum: {
    kind: 'int',
    default: 8,
    min: 1,
    max: 64,
    doc: 'Queues of the POP revive log, the system topic holding check points and acks of popped messages.',
  },
  maxPopPollingSize: {
    ...positive,
    default: 100_000,
    doc: 'POP requests held waiting for messages at once; past it a pop is answered POLLING_FULL (209).',
  },
  channelExpiredTimeout: { ...positive, default: 120_000, doc: 'A client silent this long is dropped (ms).' },
  clientRegistrationsPerConnectionMax: {
    ...positive,
    default: 1000,
    tsrocket: true,
    doc:
      'Producer and consumer registrations (a client id in a group, from HEART_BEAT) one connection may hold; ' +
      'a heartbeat adding more is answered SYSTEM_ERROR naming this key.',
  },
  clientScanIntervalMs: { ...positive, default: 10_000, tsrocket: true, doc: 'Period of the idle-client scan (ms).' },
  maxReconsumeTimesDefault: {
    kind: 'int',
    default: 16,
    min: 0,
    tsrocket: true,
    doc: 'Deliveries of a sent-back message before the DLQ when the client does not say.',
  },
  pullBytesMax: { ...positive, default: 4 * 1024 * 1024, tsrocket: true, doc: 'Largest bytes in one pull response.' },
  pullMsgNumsMax: { ...positive, default: 1024, tsrocket: true, doc: 'Largest maxMsgNums honoured in one pull.' },
  waitTimeMillsInSendQueue: {
    ...positive,
    default: 200,
    doc: 'A send queued this long on a connection over its share is answered SYSTEM_BUSY (ms).',
  },
  sendThreadPoolQueueCapacity: {
    ...positive,
    default: 10_000,
    doc: 'Sends queued across connections past which a connection over its share is answered SYSTEM_BUSY at once.',
  },
  sendInFlightPerConnectionMax: {
    ...positive,
    default: 32,
    tsrocket: true,
    doc: "Sends of one connection processed at once; more wait in that connection's queue, served in turn.",
  },
  sendInFlightBytesMax: {
    ...positive,
    default: 4 * 1024 * 1024,
    tsrocket: true,
    doc: "Send body bytes processed at once across connections; more wait in their connections' queues (bytes).",
  },
  sendQueuedPerConnectionMax: {
    ...positive,
    default: 64,
    tsrocket: true,
    doc: 'Sends queued on one connection at which the broker stops reading it until half are served (back-pressure).',
  },
  sendQueueBytesMax: {
    ...positive,
    default: 128 * 1024 * 1024,
    tsrocket: true,
    doc: 'Send body bytes queued across connections past which an over-share connection gets SYSTEM_BUSY (bytes).',
  },
  transactionTimeOut: {
    ...positive,
    default: 6000,
    doc:
      'A half (prepared) message this old without a commit or rollback is checked back with its producer (ms); ' +
      'a message property CHECK_IMMUNITY_TIME_IN_SECONDS overrides it.',
  },
  transactionCheckMax: {
    ...positive,
    default: 15,
    doc: 'Check-backs of one half message before it is rolled back (and logged).',
  },
  transactionCheckInterval: {
    ...positive,
    default: 60_000,
    doc: 'Period of the transaction check pass over half messages (ms); also the time between two check-backs.',
  },
  rejectTransactionMessage: {
    kind: 'bool',
    default: false,
    doc: 'Refuse transactional (half) sends with NO_PERMISSION.',
  },
  ...serverConnectionKeys,
};

const acl = 'ACL (AccessKey signatures and permissions)';
const sql92 = 'SQL92 property filtering';
const ha = 'HA replication (master/replica)';
const controller = 'controller mode (automatic failover)';
const metrics = 'metrics export';
const threads = 'one Node.js event loop serves every request';

/**
 * RocketMQ BrokerConfig / NettyServerConfig / NettyClientConfig keys that tsrocket does not read: refused when
 * set to ask for a feature not built yet, accepted with a warning when they mean nothing here.
 */
export const brokerPlannedKeys: Readonly<Record<string, ConfigKey>> = {
  aclEnable: { kind: 'bool', default: false, notBuilt: { feature: acl }, doc: 'Check ACL signatures.' },
  filterSupportRetry: { kind: 'bool', default: false, notBuilt: { feature: sql92 }, doc: 'Filter retry topics.' },
  slaveReadEnable: { kind: 'bool', default: false, notBuilt: { feature: ha }, doc: 'Let consumers read replicas.' },
  enableSlaveActingMaster: { kind: 'bool', default: false, notBuilt: { feature: ha }, doc: 'Replica acts master.' },
  brokerIP2: inertKey('string', '', 'it is the HA address, and HA replication is not built yet', 'HA address.'),
  enableControllerMode: { kind: 'bool', default: false, notBuilt: { feature: controller }, doc: 'Controller mode.' },
  controllerAddr: { kind: 'string', default: '', notBuilt: { feature: controller }, doc: 'Controller addresses.' },
  metricsExporterType: {
    kind: 'string',
    default: 'DISABLE',
    values: ['DISABLE', 'OTLP_GRPC', 'PROM', 'LOG'],
    notBuilt: { feature: metrics, values: ['OTLP_GRPC', 'PROM', 'LOG'] },
    doc: 'Metrics exporter.',
  },
  metricsPromExporterPort: { kind: 'int', default: 5557, notBuilt: { feature: metrics }, doc: 'Prometheus port.' },
  useTLS: { kind: 'bool', default: false, notBuilt: { feature: 'TLS' }, doc: 'TLS on remoting connections.' },
  fetchNamesrvAddrByAddressServer: {
    kind: 'bool',
    default: false,
    notBuilt: { feature: 'NameServer address lookup over HTTP' },
    doc: 'Fetch namesrvAddr from an address server.',
  },
  rocketmqHome: inertKey('string', '', 'nothing is read from it', 'RocketMQ home directory.'),
  sendMessageThreadPoolNums: inertKey('int', 4, threads, 'Send threads.'),
  pullMessageThreadPoolNums: inertKey('int', 16, threads, 'Pull threads.'),
  queryMessageThreadPoolNums: inertKey('int', 8, threads, 'Query threads.'),
  adminBrokerThreadPoolNums: inertKey('int', 16, threads, 'Admin threads.'),
  clientManageThreadPoolNums: inertKey('int', 32, threads, 'Client management threads.'),
  consumerManageThreadPoolNums: inertKey('int', 32, threads, 'Consumer management threads.'),
  heartbeatThreadPoolNums: inertKey('int', 8, threads, 'Heartbeat threads.'),
  endTransactionThreadPoolNums: inertKey('int', 8, threads, 'End-transaction threads.'),
  processReplyMessageThreadPoolNums: inertKey('int', 16, threads, 'Reply threads.'),
  ...nettyServerInertKeys,
  brokerFastFailureEnable: inertKey('bool', true, 'see osPageCacheBusyTimeOutMills', 'Fail queued sends fast.'),
  transferMsgByHeap: inertKey('bool', true, 'pulled records are sent from the store buffers', 'Heap transfer.'),
  isolateLogEnable: inertKey('bool', false, 'logs go to stdout', 'Per-broker log folders.'),
};

/** Every key a broker.conf may hold: broker keys (which win where a store key has the same name), store keys. */
export const brokerSchema: ConfigSchema = {
  role: 'broker',
  keys: { ...storePlannedKeys, ...brokerPlannedKeys, ...storeKeys, ...brokerKeys },
  aliases: { ...storeKeyAliases, bindAddress: 'listenHost' },
};
