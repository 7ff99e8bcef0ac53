/**
 * Half (prepared) messages are refused until transactions are built: stored, they would be acknowledged and then
 * never delivered (dispatch skips them, and there is no END_TRANSACTION handler). RocketMQ answers the same
 * NO_PERMISSION when rejectTransactionMessage is set. The transaction issue replaces this hook with
 * "prepared → RMQ_SYS_TRANS_HALF_TOPIC".
 */
import { SysFlag, transactionTypeOf } from '../../common/message.js';
import { ResponseCode } from '../../remoting/codes.js';
import type { BrokerConfig } from '../config.js';
import { type PutHook, PutRefusal } from './types.js';

export function refuseTransactionHook(config: BrokerConfig): PutHook {
  const refusal = new PutRefusal(
    ResponseCode.NO_PERMISSION,
    `the broker[${config.brokerName}] sending transaction message is forbidden: transactional messages are not built yet`,
  );
  return {
    name: 'refuse-transaction',
    beforePut(msg) {
      const prepared =
        transactionTypeOf(msg.sysFlag) === SysFlag.transactionPreparedType || msg.transactionPrepared === true;
      return prepared ? refusal : undefined;
    },
  };
}
