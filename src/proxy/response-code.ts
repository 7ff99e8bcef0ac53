/** A broker answer (remoting ResponseCode + remark) as an apache.rocketmq.v2 Status, as RocketMQ's proxy maps them. */
import { ResponseCode } from '../remoting/codes.js';
import { Code, type Status, status } from './proto.js';

const codeOfResponse: ReadonlyMap<number, Code> = new Map<number, Code>([
  [ResponseCode.SUCCESS, Code.OK],
  [ResponseCode.SYSTEM_BUSY, Code.TOO_MANY_REQUESTS],
  [ResponseCode.REQUEST_CODE_NOT_SUPPORTED, Code.NOT_IMPLEMENTED],
  [ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, Code.CONSUMER_GROUP_NOT_FOUND],
  [ResponseCode.TOPIC_NOT_EXIST, Code.TOPIC_NOT_FOUND],
  [ResponseCode.NO_PERMISSION, Code.FORBIDDEN],
  [ResponseCode.MESSAGE_ILLEGAL, Code.BAD_REQUEST],
  [ResponseCode.INVALID_PARAMETER, Code.BAD_REQUEST],
  [ResponseCode.FLUSH_DISK_TIMEOUT, Code.MASTER_PERSISTENCE_TIMEOUT],
  [ResponseCode.FLUSH_SLAVE_TIMEOUT, Code.SLAVE_PERSISTENCE_TIMEOUT],
  [ResponseCode.SLAVE_NOT_AVAILABLE, Code.HA_NOT_AVAILABLE],
  [ResponseCode.SUBSCRIPTION_PARSE_FAILED, Code.ILLEGAL_FILTER_EXPRESSION],
  [ResponseCode.POLLING_FULL, Code.TOO_MANY_REQUESTS],
]);

/** Codes not listed are INTERNAL_SERVER_ERROR, as in RocketMQ; the remark is kept as the message. */
export function statusOfResponse(responseCode: number, remark: string | undefined): Status {
  const code = codeOfResponse.get(responseCode) ?? Code.INTERNAL_SERVER_ERROR;
  return status(code, remark ?? `broker answered ${responseCode}`);
}
