/** A small POP client over remoting for tests (the SDK's SimpleConsumer is built elsewhere). */
import type { MessageExt } from '../../../src/common/message.js';
import { decodeRecords } from '../../../src/common/record.js';
import { RequestCode } from '../../../src/remoting/codes.js';
import type { RemotingCommand } from '../../../src/remoting/command.js';
import {
  decodePopMessageResponseHeader,
  encodeAckMessageHeader,
  encodeChangeInvisibleTimeHeader,
  encodePopMessageHeader,
  type PopMessageRequestHeader,
} from '../../../src/remoting/protocol/pop.js';
import { infoKey, parseInfoList, retryMarkOf } from '../../../src/remoting/protocol/pop-extra-info.js';
import { call, type Endpoint } from '../helpers.js';

export interface Popped {
  resp: RemotingCommand;
  /** POP_CK set in each: the broker's own (a revived message), else built from the answer's offset lists. */
  msgs: MessageExt[];
  /** How many came without POP_CK (first deliveries, as RocketMQ's broker sends them). */
  builtCk: number;
}

export async function popRaw(
  h: Endpoint,
  topic: string,
  over: Partial<PopMessageRequestHeader> = {},
  timeoutMs = 10_000,
): Promise<Popped> {
  const resp = await call(
    h,
    RequestCode.POP_MESSAGE,
    encodePopMessageHeader({
      consumerGroup: 'pg1',
      topic,
      queueId: -1,
      maxMsgNums: 32,
      invisibleTime: 60_000n,
      pollTime: 0n,
      bornTime: BigInt(Date.now()),
      initMode: 0,
      ...over,
    }),
    undefined,
    timeoutMs,
  );
  if (resp.code !== 0) return { resp, msgs: [], builtCk: 0 };
  const msgs = decodeRecords(resp.body ?? Buffer.alloc(0));
  return { resp, msgs, builtCk: withPopCk(resp, msgs) };
}

/** POP_CK as RocketMQ's client builds it (MQClientAPIImpl.processPopResponse) where the record has none. */
function withPopCk(resp: RemotingCommand, msgs: MessageExt[], brokerName = 'broker-a'): number {
  const h = decodePopMessageResponseHeader(resp);
  const starts = parseInfoList(h.startOffsetInfo);
  if (typeof starts === 'string') throw new Error(starts);
  let built = 0;
  for (const m of msgs) {
    if (m.properties.has('POP_CK')) continue;
    const mark = retryMarkOf(m.topic);
    const ck = starts.get(infoKey(mark, m.queueId));
    const fields = [ck, h.popTime, h.invisibleTime, h.reviveQid, mark, brokerName, m.queueId, m.queueOffset];
    m.properties.set('POP_CK', fields.join(' '));
    built++;
  }
  return built;
}

export function popCkOf(m: MessageExt): string {
  const ck = m.properties.get('POP_CK');
  if (ck === undefined) throw new Error('message has no POP_CK');
  return ck;
}

export function ack(h: Endpoint, topic: string, m: MessageExt, group = 'pg1', extraInfo = popCkOf(m)) {
  return call(
    h,
    RequestCode.ACK_MESSAGE,
    encodeAckMessageHeader({ consumerGroup: group, topic, queueId: m.queueId, extraInfo, offset: m.queueOffset }),
  );
}

export function changeInvisible(
  h: Endpoint,
  topic: string,
  m: MessageExt,
  ms: number,
  group = 'pg1',
  extraInfo = popCkOf(m),
) {
  return call(
    h,
    RequestCode.CHANGE_MESSAGE_INVISIBLETIME,
    encodeChangeInvisibleTimeHeader({
      consumerGroup: group,
      topic,
      queueId: m.queueId,
      extraInfo,
      offset: m.queueOffset,
      invisibleTime: BigInt(ms),
    }),
  );
}

/** The extraInfo of a message after CHANGE_MESSAGE_INVISIBLETIME, as RocketMQ's client rebuilds it. */
export function changedExtraInfo(old: string, resp: RemotingCommand): string {
  const f = old.split(' ');
  const offset = f[7] as string;
  return [
    offset,
    resp.extFields?.['popTime'],
    resp.extFields?.['invisibleTime'],
    resp.extFields?.['reviveQid'],
    f[4],
    f[5],
    f[6],
    offset,
  ].join(' ');
}
