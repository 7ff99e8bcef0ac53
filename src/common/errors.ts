/**
 * Base error of tsrocket. `code` is stable (a RocketMQ response code where one applies),
 * `retriable` tells the shared retry helper whether trying again may succeed.
 */
export class TsRocketError extends Error {
  readonly code: number;
  readonly retriable: boolean;

  constructor(message: string, options: { code?: number; retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 1;
    this.retriable = options.retriable ?? false;
  }
}

/** A value that breaks a documented limit or format (topic name, body size, header field). */
export class InvalidArgumentError extends TsRocketError {
  constructor(message: string, options: { code?: number; cause?: unknown } = {}) {
    super(message, { code: options.code ?? 1, retriable: false, cause: options.cause });
  }
}
