/**
 * Half (prepared) messages → RMQ_SYS_TRANS_HALF_TOPIC queue 0 (RocketMQ's TransactionalMessageBridge
 * parseHalfMessageInner): REAL_TOPIC / REAL_QID keep where it goes on commit, the transaction bits become NOT so
 * the record takes a queue offset in the half queue, which no consumer reads. END_TRANSACTION (37) then commits
 * it to its real topic or rolls it back (src/broker/transaction/). `rejectTransactionMessage` refuses them with
 * NO_PERMISSION, as RocketMQ does.
 */
import { SysFlag, transactionTypeOf } from '../../common/message.js';
import { encodedProperty, Prop, propertySeparator } from '../../common/properties.js';
import { SystemTopic } from '../../common/topics.js';
import { ResponseCode } from '../../remoting/codes.js';
import type { BrokerConfig } from '../config.js';
import { type PutHook, type PutMessage, PutRefusal } from './types.js';

/** The half topic has one queue; op records go to the same queue id of the op topic. */
export const halfQueueId = 0;

export function isPrepared(msg: PutMessage): boolean {
  return transactionTypeOf(msg.sysFlag) === SysFlag.transactionPreparedType || msg.transactionPrepared === true;
}

export function transactionHook(config: Pick<BrokerConfig, 'brokerName' | 'rejectTransactionMessage'>): PutHook {
  const rejected = new PutRefusal(
    ResponseCode.NO_PERMISSION,
    `the broker[${config.brokerName}] sending transaction message is forbidden (rejectTransactionMessage=true)`,
  );
  const inBatch = new PutRefusal(
    ResponseCode.MESSAGE_ILLEGAL,
    'a batch cannot hold a transactional (half) message: send it alone',
  );
  return {
    name: 'transaction-half',
    leavesPlainAlone: true,
    beforePut(msg, req) {
      if (!isPrepared(msg)) return undefined;
      if (config.rejectTransactionMessage) return rejected;
      if (req.batch === true) return inBatch;
      toHalf(msg);
      return undefined;
    },
  };
}

/** Rewrites `msg` in place into its half form. Appended properties win over earlier ones of the same name. */
export function toHalf(msg: PutMessage): void {
  let props = typeof msg.properties === 'string' ? msg.properties : msg.properties.toString('utf8');
  // The Java client drops the separator after the last property.
  if (props !== '' && !props.endsWith(propertySeparator)) props += propertySeparator;
  msg.properties =
    props + encodedProperty(Prop.realTopic, msg.topic) + encodedProperty(Prop.realQueueId, String(msg.queueId));
  msg.sysFlag = (msg.sysFlag & ~SysFlag.transactionRollbackType) | SysFlag.transactionNotType;
  msg.topic = SystemTopic.transHalf;
  msg.queueId = halfQueueId;
  // Later hooks (delay, timer) leave half messages alone; they see the delay again when it is committed.
  msg.transactionPrepared = true;
}
