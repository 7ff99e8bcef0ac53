/** Message subcommands: query by id / key, send one message, pull and print messages. */
import { inflateSync } from 'node:zlib';
import { toolsProducerGroup } from '../../client/admin/messages.js';
import { masterAddrOf } from '../../client/admin/rpc.js';
import type { MessageQueue } from '../../client/message-queue.js';
import { Producer } from '../../client/producer.js';
import { type MessageExt, SysFlag } from '../../common/message.js';
import { Prop } from '../../common/properties.js';
import { intOpt, stringOpt, UsageError } from './args.js';
import { type AdminCommand, topicOption } from './command.js';
import { formatKeyValues, formatTable, formatTime, toJson } from './table.js';

export const consumeCountDefault = 128;
const pullBatch = 32;

function bodyText(msg: MessageExt): string {
  try {
    const raw = (msg.sysFlag & SysFlag.compressed) !== 0 ? inflateSync(msg.body) : msg.body;
    return raw.toString('utf8');
  } catch {
    return `<${msg.body.length} bytes, not inflatable>`;
  }
}

/** A stored message as plain data with stable keys (the `--json` shape). */
export function messageView(msg: MessageExt) {
  return {
    topic: msg.topic,
    msgId: msg.properties.get(Prop.uniqKey) ?? msg.offsetMsgId,
    offsetMsgId: msg.offsetMsgId,
    tags: msg.properties.get(Prop.tags),
    keys: msg.properties.get(Prop.keys),
    queueId: msg.queueId,
    queueOffset: Number(msg.queueOffset),
    commitLogOffset: Number(msg.commitLogOffset),
    reconsumeTimes: msg.reconsumeTimes,
    bornTimestamp: Number(msg.bornTimestamp),
    storeTimestamp: Number(msg.storeTimestamp),
    bornHost: msg.bornHost,
    storeHost: msg.storeHost,
    sysFlag: msg.sysFlag,
    storeSize: msg.storeSize,
    properties: Object.fromEntries(msg.properties),
    body: bodyText(msg),
  };
}

export function formatMessage(msg: MessageExt): string {
  const v = messageView(msg);
  return formatKeyValues([
    ['OffsetID', v.offsetMsgId],
    ['Topic', v.topic],
    ['Tags', `[${v.tags ?? ''}]`],
    ['Keys', `[${v.keys ?? ''}]`],
    ['Queue ID', v.queueId],
    ['Queue Offset', v.queueOffset],
    ['CommitLog Offset', v.commitLogOffset],
    ['Reconsume Times', v.reconsumeTimes],
    ['Born Timestamp', formatTime(v.bornTimestamp)],
    ['Store Timestamp', formatTime(v.storeTimestamp)],
    ['Born Host', v.bornHost],
    ['Store Host', v.storeHost],
    ['System Flag', v.sysFlag],
    ['Properties', JSON.stringify(v.properties)],
    ['Message Body', v.body],
  ]);
}

const queryMsgById: AdminCommand = {
  name: 'queryMsgById',
  summary: 'Find a message by offsetMsgId, or by client msgId with -t topic.',
  options: [
    {
      short: 'i',
      long: 'msgId',
      description: 'offsetMsgId or client msgId (32 hex)',
      takesValue: true,
      required: true,
    },
    topicOption(false),
  ],
  async run({ admin, args, io, json }) {
    const msgId = stringOpt(args, 'msgId') as string;
    const msgs = await admin.viewMessageById(msgId, stringOpt(args, 'topic'));
    if (json) io.out(toJson({ messages: msgs.map(messageView) }));
    else if (msgs.length === 0) io.out(`no message found for ${msgId}`);
    else io.out(msgs.map(formatMessage).join('\n\n'));
  },
};

const queryMsgByKey: AdminCommand = {
  name: 'queryMsgByKey',
  summary: 'Find messages of a topic by key (KEYS property).',
  options: [
    topicOption(true),
    { short: 'k', long: 'msgKey', description: 'message key', takesValue: true, required: true },
    {
      short: 'm',
      long: 'maxNum',
      description: 'most messages to return per broker',
      takesValue: true,
      defaultValue: '64',
    },
  ],
  async run({ admin, args, io, json }) {
    const msgs = await admin.queryMessageByKey(
      stringOpt(args, 'topic') as string,
      stringOpt(args, 'msgKey') as string,
      intOpt(args, 'maxNum', 1, 1_000),
    );
    if (json) io.out(toJson({ messages: msgs.map(messageView) }));
    else
      io.out(
        formatTable(
          ['#Message ID', '#QID', '#Offset'],
          msgs.map((m) => [messageView(m).msgId, m.queueId, Number(m.queueOffset)]),
        ),
      );
  },
};

const sendMessage: AdminCommand = {
  name: 'sendMessage',
  summary: 'Send one message (UTF-8 body).',
  options: [
    topicOption(true),
    { short: 'p', long: 'body', description: 'UTF-8 message body', takesValue: true, required: true },
    { short: 'k', long: 'key', description: 'message keys (space separated)', takesValue: true },
    { short: 'c', long: 'tags', description: 'message tag', takesValue: true },
    { short: 'b', long: 'broker', description: 'send to this brokerName only', takesValue: true },
    { short: 'i', long: 'qid', description: 'send to this queue id only', takesValue: true },
  ],
  async run({ admin, args, io, json }) {
    const topic = stringOpt(args, 'topic') as string;
    const brokerName = stringOpt(args, 'broker');
    const queueId = intOpt(args, 'qid', 0, 65_535);
    if (queueId !== undefined && brokerName === undefined) throw new UsageError('-i qid needs -b broker');
    let queue: MessageQueue | undefined;
    if (brokerName !== undefined) {
      const qd = (await admin.topicRoute(topic)).queueDatas.find((q) => q.brokerName === brokerName);
      if (qd === undefined || qd.writeQueueNums === 0)
        throw new UsageError(`broker '${brokerName}' has no writable queue of '${topic}'`);
      queue = { topic, brokerName, queueId: queueId ?? Math.floor(Math.random() * qd.writeQueueNums) };
    }
    const producer = new Producer({ nameServer: admin.nameServers.join(';'), group: toolsProducerGroup });
    await producer.start();
    try {
      const keys = stringOpt(args, 'key');
      const r = await producer.send(
        {
          topic,
          body: stringOpt(args, 'body') as string,
          tags: stringOpt(args, 'tags'),
          keys: keys?.split(' ').filter((k) => k !== ''),
        },
        queue === undefined ? {} : { queue },
      );
      const view = {
        topic,
        status: r.status,
        msgId: r.msgId,
        offsetMsgId: r.offsetMsgId,
        brokerName: r.messageQueue.brokerName,
        queueId: r.messageQueue.queueId,
        queueOffset: Number(r.queueOffset),
      };
      if (json) io.out(toJson(view));
      else
        io.out(
          formatTable(
            ['#Broker Name', '#QID', '#Send Result', '#MsgId', '#Queue Offset'],
            [[view.brokerName, view.queueId, view.status, view.msgId, view.queueOffset]],
          ),
        );
    } finally {
      await producer.shutdown();
    }
  },
};

const consumeMessage: AdminCommand = {
  name: 'consumeMessage',
  summary: 'Pull messages of a topic (all queues, or -b broker / -i queue) from an offset and print them.',
  options: [
    topicOption(true),
    { short: 'b', long: 'brokerName', description: 'brokerName (or master address) to read from', takesValue: true },
    { short: 'i', long: 'queueId', description: 'queue id (needs -b when the topic spans brokers)', takesValue: true },
    {
      short: 'o',
      long: 'offset',
      description: 'queue offset to start at (default: each queue minimum)',
      takesValue: true,
    },
    {
      short: 'c',
      long: 'MessageNumber',
      description: 'most messages to print',
      takesValue: true,
      defaultValue: String(consumeCountDefault),
    },
  ],
  async run({ admin, args, io, json }) {
    const topic = stringOpt(args, 'topic') as string;
    const only = stringOpt(args, 'brokerName');
    const queueId = intOpt(args, 'queueId', 0, 65_535);
    const startOffset = intOpt(args, 'offset', 0, Number.MAX_SAFE_INTEGER);
    let left = intOpt(args, 'MessageNumber', 1, 1_000_000) ?? consumeCountDefault;
    const route = await admin.topicRoute(topic);
    const brokers = route.brokerDatas.filter(
      (bd) => only === undefined || bd.brokerName === only || masterAddrOf(bd) === only,
    );
    if (brokers.length === 0) throw new UsageError(`broker '${only}' does not serve topic '${topic}'`);
    const stats = await admin.topicStatus(topic);
    const printed: MessageExt[] = [];
    for (const bd of brokers) {
      const addr = masterAddrOf(bd);
      if (addr === undefined) continue;
      const queues = stats.filter(
        (s) => s.brokerName === bd.brokerName && (queueId === undefined || s.queueId === queueId),
      );
      for (const q of queues) {
        let offset = startOffset ?? q.minOffset;
        while (left > 0 && offset < q.maxOffset) {
          const r = await admin.pull(addr, topic, q.queueId, offset, Math.min(pullBatch, left));
          if (r.status === 'OFFSET_ILLEGAL' && r.nextBeginOffset !== offset) {
            offset = r.nextBeginOffset;
            continue;
          }
          for (const m of r.messages.slice(0, left)) {
            printed.push(m);
            if (!json)
              io.out(
                `${bd.brokerName}/${q.queueId}@${Number(m.queueOffset)} MSGID: ${messageView(m).msgId} TAGS: ${m.properties.get(Prop.tags) ?? ''} KEYS: ${m.properties.get(Prop.keys) ?? ''} BODY: ${bodyText(m)}`,
              );
          }
          left -= Math.min(left, r.messages.length);
          if (r.status !== 'FOUND' || r.nextBeginOffset <= offset) break;
          offset = r.nextBeginOffset;
        }
      }
    }
    if (json) io.out(toJson({ topic, messages: printed.map(messageView) }));
    else io.out(`${printed.length} message(s) printed.`);
  },
};

export const messageCommands: AdminCommand[] = [queryMsgById, queryMsgByKey, sendMessage, consumeMessage];
