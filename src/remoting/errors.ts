/** Errors of the remoting layer. Codes are RocketMQ's where one applies (RPC_* codes are client-side). */
import { TsRocketError } from '../common/errors.js';
import { isRetriableResponseCode, ResponseCode, responseCodeName } from './codes.js';

type ErrorOptions = { cause?: unknown };

/** Bytes on the wire break the frame or header format, or a limit. Not retriable: the connection is closed. */
export class RemotingProtocolError extends TsRocketError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { code: ResponseCode.SYSTEM_ERROR, retriable: false, cause: options.cause });
  }
}

/** No response within the request's timeout. */
export class RemotingTimeoutError extends TsRocketError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { code: ResponseCode.RPC_TIME_OUT, retriable: true, cause: options.cause });
  }
}

/** The TCP connection could not be established (refused, unreachable, connect timeout). */
export class RemotingConnectError extends TsRocketError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { code: ResponseCode.RPC_SEND_TO_CHANNEL_FAILED, retriable: true, cause: options.cause });
  }
}

/** The request could not be sent (pending table full, write failed). */
export class RemotingSendError extends TsRocketError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { code: ResponseCode.RPC_SEND_TO_CHANNEL_FAILED, retriable: true, cause: options.cause });
  }
}

/** The connection closed while the request was pending, or the client/server was closed. */
export class RemotingClosedError extends TsRocketError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { code: ResponseCode.RPC_SEND_TO_CHANNEL_FAILED, retriable: true, cause: options.cause });
  }
}

/** A peer answered with a non-success response code; `code` is that response code. */
export class RemotingResponseError extends TsRocketError {
  readonly responseCode: number;
  readonly remark: string | undefined;

  constructor(responseCode: number, remark?: string, options: ErrorOptions & { context?: string } = {}) {
    const what = `${responseCodeName(responseCode)} (${responseCode})${remark ? `: ${remark}` : ''}`;
    super(options.context ? `${options.context}: ${what}` : what, {
      code: responseCode,
      retriable: isRetriableResponseCode(responseCode),
      cause: options.cause,
    });
    this.responseCode = responseCode;
    this.remark = remark;
  }

  /** From a response command: `RemotingResponseError.of(resp, 'send to broker-a')`. */
  static of(response: { code: number; remark?: string | undefined }, context?: string): RemotingResponseError {
    return new RemotingResponseError(response.code, response.remark, context === undefined ? {} : { context });
  }
}
