/** Topic, cluster, broker and consumer-group subcommands (mqadmin names and flags). */
import {
  dedupWindowMsMax,
  dedupWindowMsMin,
  isTopicMessageType,
  messageTypeAttribute,
  TopicMessageType,
} from '../../common/topic-attributes.js';
import { boolOpt, intOpt, type ParsedArgs, stringOpt, UsageError } from './args.js';
import { type AdminCommand, topicOption } from './command.js';
import { formatKeyValues, formatTable, formatTime, toJson } from './table.js';

const updateTopic: AdminCommand = {
  name: 'updateTopic',
  summary: 'Create or update a topic on one broker (-b) or on every master of a cluster (-c).',
  options: [
    { short: 'b', long: 'brokerAddr', description: 'create on this broker (host:port)', takesValue: true },
    { short: 'c', long: 'clusterName', description: 'create on every master of this cluster', takesValue: true },
    topicOption(true),
    { short: 'r', long: 'readQueueNums', description: 'read queue count', takesValue: true, defaultValue: '8' },
    { short: 'w', long: 'writeQueueNums', description: 'write queue count', takesValue: true, defaultValue: '8' },
    {
      short: 'p',
      long: 'perm',
      description: 'permission: 2 write, 4 read, 6 read+write',
      takesValue: true,
      defaultValue: '6',
    },
    { short: 'o', long: 'order', description: 'ordered topic (true|false)', takesValue: true, defaultValue: 'false' },
    {
      short: 'm',
      long: 'messageType',
      description: 'accept only this message type: NORMAL, FIFO, DELAY, TRANSACTION (unset: every type)',
      takesValue: true,
    },
    {
      short: 'd',
      long: 'dedupWindowMs',
      description:
        'producer de-duplication (tsrocket): a resend of a UNIQ_KEY stored within this many ms is answered with the first result (600000 = 10 min; 0 turns it off)',
      takesValue: true,
    },
    {
      short: 'a',
      long: 'attributes',
      description: 'attribute changes as RocketMQ 5: +message.type=FIFO, or --attributes=-message.type to untype',
      takesValue: true,
    },
  ],
  async run({ admin, args, io, json }) {
    const brokerAddr = stringOpt(args, 'brokerAddr');
    const cluster = stringOpt(args, 'clusterName');
    if ((brokerAddr === undefined) === (cluster === undefined))
      throw new UsageError('give exactly one of -b brokerAddr or -c clusterName');
    const config = {
      topicName: stringOpt(args, 'topic') as string,
      readQueueNums: intOpt(args, 'readQueueNums', 1, 1024),
      writeQueueNums: intOpt(args, 'writeQueueNums', 1, 1024),
      perm: intOpt(args, 'perm', 0, 7),
      order: boolOpt(args, 'order'),
      messageType: messageTypeOpt(args),
      dedupWindowMs: dedupWindowOpt(args),
      attributes: stringOpt(args, 'attributes'),
    };
    const target = brokerAddr !== undefined ? { brokerAddr } : { cluster: cluster as string };
    const brokers = await admin.createOrUpdateTopic(target, config);
    if (json)
      io.out(
        toJson({
          topic: config.topicName,
          brokers,
          readQueueNums: config.readQueueNums,
          writeQueueNums: config.writeQueueNums,
          perm: config.perm,
          order: config.order,
          messageType: config.messageType,
          dedupWindowMs: config.dedupWindowMs,
          attributes: config.attributes,
        }),
      );
    else for (const b of brokers) io.out(`create topic to ${b} success.`);
    if (!json)
      io.out(
        `TopicConfig [topicName=${config.topicName}, readQueueNums=${config.readQueueNums}, writeQueueNums=${config.writeQueueNums}, perm=${config.perm}, order=${config.order}]`,
      );
  },
};

function dedupWindowOpt(args: ParsedArgs): number | undefined {
  const ms = intOpt(args, 'dedupWindowMs', 0, dedupWindowMsMax);
  if (ms !== undefined && ms !== 0 && ms < dedupWindowMsMin)
    throw new UsageError(`--dedupWindowMs must be 0 (off) or ${dedupWindowMsMin}..${dedupWindowMsMax}, got ${ms}`);
  return ms;
}

function messageTypeOpt(args: ParsedArgs): TopicMessageType | undefined {
  const v = stringOpt(args, 'messageType');
  if (v === undefined) return undefined;
  const t = v.toUpperCase();
  if (!isTopicMessageType(t))
    throw new UsageError(`--messageType must be NORMAL, FIFO, DELAY or TRANSACTION, got '${v}'`);
  return t;
}

const deleteTopic: AdminCommand = {
  name: 'deleteTopic',
  summary: 'Delete a topic from the brokers of a cluster and from every NameServer.',
  options: [
    {
      short: 'c',
      long: 'clusterName',
      description: 'cluster to delete the topic from',
      takesValue: true,
      required: true,
    },
    topicOption(true),
  ],
  async run({ admin, args, io, json }) {
    const topic = stringOpt(args, 'topic') as string;
    const cluster = stringOpt(args, 'clusterName') as string;
    const brokers = await admin.deleteTopic(topic, cluster);
    if (json) io.out(toJson({ topic, cluster, brokers }));
    else {
      io.out(`delete topic [${topic}] from cluster [${cluster}] success.`);
      io.out(`delete topic [${topic}] from NameServer success.`);
    }
  },
};

const topicList: AdminCommand = {
  name: 'topicList',
  summary: 'List every topic the NameServer knows.',
  options: [],
  async run({ admin, io, json }) {
    const topics = await admin.topicList();
    io.out(json ? toJson({ topics }) : topics.join('\n'));
  },
};

const topicRoute: AdminCommand = {
  name: 'topicRoute',
  summary: 'Show the route of a topic: its brokers and queues.',
  options: [topicOption(true)],
  async run({ admin, args, io, json }) {
    const topic = stringOpt(args, 'topic') as string;
    const route = await admin.topicRoute(topic);
    // The message type lives in the brokers' topic config, not in the route.
    const types = new Map<string, string>();
    for (const b of await admin.topicConfig(topic).catch(() => [])) {
      types.set(b.brokerName, b.config.attributes[messageTypeAttribute] ?? TopicMessageType.UNSPECIFIED);
    }
    if (json) {
      io.out(toJson({ ...route, messageTypes: Object.fromEntries(types) }));
      return;
    }
    const brokers = route.brokerDatas.flatMap((bd) =>
      Object.entries(bd.brokerAddrs).map(([id, addr]) => [bd.cluster, bd.brokerName, Number(id), addr] as const),
    );
    io.out(formatTable(['#Cluster', '#BrokerName', '#BID', '#Addr'], brokers));
    io.out('');
    io.out(
      formatTable(
        ['#BrokerName', '#ReadQueues', '#WriteQueues', '#Perm', '#MessageType'],
        route.queueDatas.map((q) => [
          q.brokerName,
          q.readQueueNums,
          q.writeQueueNums,
          q.perm,
          types.get(q.brokerName) ?? '?',
        ]),
      ),
    );
  },
};

const topicStatus: AdminCommand = {
  name: 'topicStatus',
  summary: 'Show min/max offset and last update time of each queue of a topic.',
  options: [topicOption(true)],
  async run({ admin, args, io, json }) {
    const topic = stringOpt(args, 'topic') as string;
    const queues = await admin.topicStatus(topic);
    if (json) {
      io.out(
        toJson({
          topic,
          queues: queues.map((q) => ({
            brokerName: q.brokerName,
            queueId: q.queueId,
            minOffset: q.minOffset,
            maxOffset: q.maxOffset,
            lastUpdateTimestamp: q.lastUpdateTimestamp,
          })),
        }),
      );
      return;
    }
    io.out(
      formatTable(
        ['#Broker Name', '#QID', '#Min Offset', '#Max Offset', '#Last Updated'],
        queues.map((q) => [q.brokerName, q.queueId, q.minOffset, q.maxOffset, formatTime(q.lastUpdateTimestamp)]),
      ),
    );
  },
};

const clusterList: AdminCommand = {
  name: 'clusterList',
  summary: 'List clusters and their brokers.',
  options: [{ short: 'c', long: 'clusterName', description: 'only this cluster', takesValue: true }],
  async run({ admin, args, io, json }) {
    const only = stringOpt(args, 'clusterName');
    const info = await admin.clusterInfo();
    const rows: Array<{
      cluster: string;
      brokerName: string;
      brokerId: number;
      addr: string;
      version: string | undefined;
      putTps: string | undefined;
      getTps: string | undefined;
    }> = [];
    for (const cluster of Object.keys(info.clusterAddrTable).sort()) {
      if (only !== undefined && cluster !== only) continue;
      for (const brokerName of [...(info.clusterAddrTable[cluster] ?? [])].sort()) {
        const bd = info.brokerAddrTable[brokerName];
        for (const [id, addr] of Object.entries(bd?.brokerAddrs ?? {}).sort(([a], [b]) => Number(a) - Number(b))) {
          // Runtime figures are best effort: a broker that does not answer still gets listed.
          const kv = await admin.brokerRuntimeInfo(addr).catch(() => ({}) as Record<string, string>);
          rows.push({
            cluster,
            brokerName,
            brokerId: Number(id),
            addr,
            version: kv['brokerVersionDesc'],
            putTps: kv['putTps'],
            getTps: kv['getTransferredTps'] ?? kv['getTransferedTps'],
          });
        }
      }
    }
    if (json) io.out(toJson({ brokers: rows }));
    else
      io.out(
        formatTable(
          ['#Cluster Name', '#Broker Name', '#BID', '#Addr', '#Version', '#InTPS', '#OutTPS'],
          rows.map((r) => [r.cluster, r.brokerName, r.brokerId, r.addr, r.version, r.putTps, r.getTps]),
        ),
      );
  },
};

const brokerStatus: AdminCommand = {
  name: 'brokerStatus',
  summary: "Show a broker's runtime information (GET_BROKER_RUNTIME_INFO).",
  options: [
    { short: 'b', long: 'brokerAddr', description: 'broker address host:port', takesValue: true, required: true },
  ],
  async run({ admin, args, io, json }) {
    const brokerAddr = stringOpt(args, 'brokerAddr') as string;
    const table = await admin.brokerRuntimeInfo(brokerAddr);
    const sorted = Object.fromEntries(Object.entries(table).sort(([a], [b]) => a.localeCompare(b)));
    io.out(json ? toJson({ brokerAddr, table: sorted }) : formatKeyValues(Object.entries(sorted)));
  },
};

const consumerProgress: AdminCommand = {
  name: 'consumerProgress',
  summary: 'Show broker offset, consumer offset and lag per queue of a consumer group.',
  options: [
    { short: 'g', long: 'groupName', description: 'consumer group', takesValue: true, required: true },
    { short: 't', long: 'topicName', description: 'only this topic', takesValue: true },
  ],
  async run({ admin, args, io, json }) {
    const p = await admin.consumerProgress(stringOpt(args, 'groupName') as string, stringOpt(args, 'topicName'));
    if (json) {
      io.out(
        toJson({
          group: p.group,
          queues: p.queues.map((q) => ({
            topic: q.topic,
            brokerName: q.brokerName,
            queueId: q.queueId,
            brokerOffset: q.brokerOffset,
            consumerOffset: q.consumerOffset,
            lag: q.lag,
            lastTimestamp: q.lastTimestamp,
          })),
          consumeTps: p.consumeTps,
          brokerOffsetTotal: p.brokerOffsetTotal,
          consumerOffsetTotal: p.consumerOffsetTotal,
          diffTotal: p.lagTotal,
        }),
      );
      return;
    }
    io.out(
      formatTable(
        ['#Topic', '#Broker Name', '#QID', '#Broker Offset', '#Consumer Offset', '#Diff', '#LastTime'],
        p.queues.map((q) => [
          q.topic,
          q.brokerName,
          q.queueId,
          q.brokerOffset,
          q.consumerOffset,
          q.lag,
          formatTime(q.lastTimestamp),
        ]),
      ),
    );
    io.out('');
    io.out(`Consume TPS: ${p.consumeTps.toFixed(2)}`);
    io.out(`Consume Diff Total: ${p.lagTotal}`);
  },
};

export const topicCommands: AdminCommand[] = [
  updateTopic,
  deleteTopic,
  topicList,
  topicRoute,
  topicStatus,
  clusterList,
  brokerStatus,
  consumerProgress,
];
