/** NameServer settings: RocketMQ's NamesrvConfig / NettyServerConfig keys, one table of known keys. */
import { type ConfigKey, type ConfigSchema, defaultsOf, inertKey } from '../common/config.js';
import { nettyServerInertKeys, type ServerConnectionConfig, serverConnectionKeys } from '../remoting/limits.js';

/** Connection keys (idle time, caps, fd reserve, partial frames): remoting/limits.ts. */
export interface NamesrvConfig extends ServerConnectionConfig {
  /** TCP port; 0 = ephemeral (tests). */
  listenPort: number;
  /** Bind address (also accepted as listenHost). */
  bindAddress: string;
  rocketmqHome: string;
  /** Where PUT_KV_CONFIG entries persist (KVConfigSerializeWrapper JSON); '' keeps them in memory only. */
  kvConfigPath: string;
  /** A broker not re-registered within this many ms is dropped (RocketMQ: 120 s). */
  brokerChannelExpiredTime: number;
  /** How often the expiry scan runs, ms (RocketMQ: 5 s). */
  scanNotActiveBrokerInterval: number;
  enableAllTopicList: boolean;
  enableTopicList: boolean;
  /** Adds the ORDER_TOPIC_CONFIG KV entry of a topic to its route as `orderTopicConf`. */
  orderMessageEnable: boolean;
  /** On registration, drop this broker's topics missing from its topic config table. */
  deleteTopicWithBrokerRegistration: boolean;
}

/** Keys that configure the NameServer. */
export const namesrvKeys: { readonly [K in keyof NamesrvConfig]-?: ConfigKey<NamesrvConfig[K]> } = {
  listenPort: { kind: 'int', default: 9876, min: 0, max: 65535, doc: 'TCP port (0 = any free port).' },
  bindAddress: { kind: 'string', default: '0.0.0.0', doc: 'Address to listen on (also accepted as listenHost).' },
  rocketmqHome: {
    kind: 'string',
    default: process.env['ROCKETMQ_HOME'] ?? '',
    defaultText: '$ROCKETMQ_HOME',
    doc: 'RocketMQ home directory; kept for compatibility, nothing is read from it.',
  },
  kvConfigPath: {
    kind: 'string',
    default: '',
    defaultText: "'' (tsrocket namesrv: ~/namesrv/kvConfig.json)",
    doc: 'File where PUT_KV_CONFIG entries persist; empty keeps them in memory.',
  },
  brokerChannelExpiredTime: {
    kind: 'int',
    default: 120_000,
    min: 1,
    doc: 'A broker not re-registered within this many ms is dropped from routes.',
  },
  scanNotActiveBrokerInterval: { kind: 'int', default: 5_000, min: 1, doc: 'Period of the broker expiry scan (ms).' },
  enableAllTopicList: { kind: 'bool', default: true, doc: 'Answer GET_ALL_TOPIC_LIST_FROM_NAMESERVER.' },
  enableTopicList: { kind: 'bool', default: true, doc: 'Answer the per-cluster and system topic list requests.' },
  orderMessageEnable: {
    kind: 'bool',
    default: false,
    doc: 'Add the ORDER_TOPIC_CONFIG KV entry of a topic to its route as orderTopicConf.',
  },
  deleteTopicWithBrokerRegistration: {
    kind: 'bool',
    default: false,
    doc: "On registration, drop the broker's topics missing from its topic table.",
  },
  ...serverConnectionKeys,
  // A NameServer alone sees no send flood, so it holds no ballast (in `tsrocket start` the broker's wins).
  gcHeapBallastMiB: { ...serverConnectionKeys.gcHeapBallastMiB, default: 0 },
};

/** The NameServer's schema: its keys, RocketMQ keys that mean nothing here, and the listenHost spelling. */
export const namesrvSchema: ConfigSchema = {
  role: 'NameServer',
  keys: {
    ...namesrvKeys,
    ...nettyServerInertKeys,
    clusterTest: inertKey('bool', false, 'no cluster test mode', 'Cluster test mode.'),
    productEnvName: inertKey('string', 'center', 'not used by any request', 'Environment name.'),
  },
  aliases: { listenHost: 'bindAddress' },
};

export function namesrvConfigDefaults(): NamesrvConfig {
  return defaultsOf<NamesrvConfig>(namesrvKeys);
}
