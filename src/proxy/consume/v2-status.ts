/**
 * A broker refusal (a remoting ResponseCode with its remark, from POP or a send-back) as the
 * apache.rocketmq.v2.Code status a client understands, as RocketMQ 5.3.3's proxy maps the same broker answers.
 */
import { ResponseCode } from '../../remoting/codes.js';
import { Code, type Status, status } from '../proto.js';

export function statusOfRefusal(code: number, remark: string): Status {
  switch (code) {
    case ResponseCode.TOPIC_NOT_EXIST:
      return status(Code.TOPIC_NOT_FOUND, remark);
    case ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST:
      return status(Code.CONSUMER_GROUP_NOT_FOUND, remark);
    case ResponseCode.NO_PERMISSION:
      return status(Code.FORBIDDEN, remark);
    case ResponseCode.SUBSCRIPTION_PARSE_FAILED:
      return status(Code.ILLEGAL_FILTER_EXPRESSION, remark);
    case ResponseCode.INVALID_PARAMETER:
    case ResponseCode.MESSAGE_ILLEGAL:
      return status(Code.BAD_REQUEST, remark);
    case ResponseCode.SYSTEM_BUSY:
    case ResponseCode.POLLING_FULL:
      return status(Code.TOO_MANY_REQUESTS, remark);
    default:
      return status(Code.INTERNAL_SERVER_ERROR, remark || `the broker answered code ${code}`);
  }
}
