/** Store put outcome → response code and remark, as RocketMQ's send processor maps them. */
import { ResponseCode } from '../../remoting/codes.js';
import { PutStatus } from '../../store/types.js';

export interface PutAnswer {
  code: number;
  remark?: string | undefined;
  /** True when the message was stored and the response carries msgId/queueId/queueOffset. */
  stored: boolean;
}

export function answerOfPutStatus(status: PutStatus, remark?: string): PutAnswer {
  switch (status) {
    case PutStatus.PUT_OK:
      return { code: ResponseCode.SUCCESS, stored: true };
    case PutStatus.FLUSH_DISK_TIMEOUT:
      return { code: ResponseCode.FLUSH_DISK_TIMEOUT, remark: remark ?? 'flush to disk timed out', stored: true };
    case PutStatus.FLUSH_SLAVE_TIMEOUT:
      return { code: ResponseCode.FLUSH_SLAVE_TIMEOUT, remark: remark ?? 'replica did not ack in time', stored: true };
    case PutStatus.SLAVE_NOT_AVAILABLE:
      return { code: ResponseCode.SLAVE_NOT_AVAILABLE, remark: remark ?? 'no replica available', stored: true };
    case PutStatus.CREATE_MAPPED_FILE_FAILED:
      return { code: ResponseCode.SYSTEM_ERROR, remark: remark ?? 'create mapped file failed', stored: false };
    case PutStatus.MESSAGE_ILLEGAL:
    case PutStatus.PROPERTIES_SIZE_EXCEEDED:
      return { code: ResponseCode.MESSAGE_ILLEGAL, remark: remark ?? 'message is illegal', stored: false };
    case PutStatus.SERVICE_NOT_AVAILABLE:
      return { code: ResponseCode.SERVICE_NOT_AVAILABLE, remark: remark ?? 'store is not writable', stored: false };
    case PutStatus.OS_PAGE_CACHE_BUSY:
      return {
        code: ResponseCode.SYSTEM_BUSY,
        remark: remark ?? 'broker busy, flow control for a while',
        stored: false,
      };
    default:
      return { code: ResponseCode.SYSTEM_ERROR, remark: remark ?? `store error ${status}`, stored: false };
  }
}
