/** A small POP client over remoting for tests (the SDK's SimpleConsumer is built elsewhere). */
import type { MessageExt } from '../../../src/common/message.js';
import { decodeRecords } from '../../../src/common/record.js';
import { RequestCode } from '../../../src/remoting/codes.js';
import type { RemotingCommand } from '../../../src/remoting/command.js';
import {
  encodeAckMessageHeader,
  encodeChangeInvisibleTimeHeader,
  encodePopMessageHeader,
  type PopMessageRequestHeader,
} from '../../../src/remoting/protocol/pop.js';
import { call, type Endpoint } from '../helpers.js';

export interface Popped {
  resp: RemotingCommand;
  msgs: MessageExt[];
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
  return { resp, msgs: resp.code === 0 ? decodeRecords(resp.body ?? Buffer.alloc(0)) : [] };
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
