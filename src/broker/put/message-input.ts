/**
 * A stored message put again under another topic (delay delivery, transaction commit, send-back): the record's
 * fields as they were, the properties as edited by the caller, and what the store derives from them (tag hash,
 * KEYS, UNIQ_KEY). Callers override what their rewrite changes (sysFlag, reconsumeTimes, …).
 */
import type { MessageExt } from '../../common/message.js';
import { encodeProperties, keySeparator, Prop } from '../../common/properties.js';
import type { MessageInput } from '../../store/types.js';
import { tagsCodeOf } from '../filter/tag-filter.js';

export function messageInputOf(
  msg: MessageExt,
  props: ReadonlyMap<string, string>,
  topic: string,
  queueId: number,
): MessageInput {
  return {
    topic,
    queueId,
    flag: msg.flag,
    body: msg.body,
    properties: encodeProperties(props),
    sysFlag: msg.sysFlag,
    bornTimestamp: msg.bornTimestamp,
    bornHost: msg.bornHost,
    reconsumeTimes: msg.reconsumeTimes,
    preparedTransactionOffset: msg.preparedTransactionOffset,
    tagsCode: tagsCodeOf(props.get(Prop.tags)),
    keys: props
      .get(Prop.keys)
      ?.split(keySeparator)
      .filter((k) => k !== ''),
    uniqKey: props.get(Prop.uniqKey),
  };
}
