/**
 * The message of a RecoverOrphanedTransactionCommand: a half message as the producer sent it (its real topic),
 * in apache.rocketmq.v2 form: what Apache's clients need to build a MessageView for their transaction checker
 * (message id, topic, body and its MD5 digest, tag, keys, user properties).
 */
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { type MessageExt, SysFlag } from '../../common/message.js';
import { keySeparator, Prop } from '../../common/properties.js';
import { type Message, MessageType, timestampOfMs } from '../proto.js';

const systemNames: ReadonlySet<string> = new Set(Object.values(Prop));

export function orphanedMessageOf(msg: MessageExt): Message {
  let body = msg.body;
  if ((msg.sysFlag & SysFlag.compressed) !== 0) {
    try {
      body = inflateSync(body);
    } catch {
      // Left as stored: the digest still describes what is sent.
    }
  }
  const userProperties: Record<string, string> = {};
  for (const [k, v] of msg.properties) if (!systemNames.has(k)) userProperties[k] = v;
  const keys = msg.properties.get(Prop.keys);
  const tag = msg.properties.get(Prop.tags);
  return {
    topic: { resourceNamespace: '', name: msg.topic },
    userProperties,
    systemProperties: {
      ...(tag === undefined ? {} : { tag }),
      keys: keys === undefined ? [] : keys.split(keySeparator).filter((k) => k !== ''),
      messageId: msg.properties.get(Prop.uniqKey) ?? msg.offsetMsgId,
      bodyDigest: { type: 'MD5', checksum: createHash('md5').update(body).digest('hex').toUpperCase() },
      bodyEncoding: 'IDENTITY',
      messageType: MessageType.TRANSACTION,
      bornTimestamp: timestampOfMs(Number(msg.bornTimestamp)),
      bornHost: msg.properties.get(Prop.bornHost) ?? msg.bornHost,
      storeTimestamp: timestampOfMs(Number(msg.storeTimestamp)),
      storeHost: msg.storeHost,
      queueId: msg.queueId,
      queueOffset: String(msg.queueOffset),
      deliveryAttempt: msg.reconsumeTimes + 1,
    },
    body,
  };
}
