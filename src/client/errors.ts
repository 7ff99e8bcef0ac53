/** Errors of the client SDK beyond the remoting and argument errors (exported from the package root). */
import { InvalidArgumentError, TsRocketError } from '../common/errors.js';
import { ResponseCode } from '../remoting/codes.js';

/** No master address is known for a queue's broker group (route not yet fetched, or the master is down). */
export class BrokerNotFoundError extends TsRocketError {
  constructor(
    readonly brokerName: string,
    readonly topic: string,
  ) {
    super(`broker ${brokerName} of ${topic} has no known master`, { retriable: true });
  }
}

/** A transactional producer's `executeLocal` or `checkLocal` threw; the transaction stays unknown (checked later). */
export class LocalTransactionError extends TsRocketError {
  constructor(
    readonly msgId: string,
    cause: unknown,
  ) {
    super(`the local transaction of message ${msgId} threw; its state stays UNKNOWN until a check resolves it`, {
      cause,
    });
  }
}

/** `executeLocal` or `checkLocal` returned something other than COMMIT, ROLLBACK or UNKNOWN. */
export class TransactionStateError extends TsRocketError {
  constructor(
    readonly msgId: string,
    readonly returned: unknown,
  ) {
    super(
      `the local transaction of message ${msgId} returned ${String(returned)}, not COMMIT, ROLLBACK or UNKNOWN; ` +
        'it is treated as UNKNOWN',
    );
  }
}

/**
 * A broker refused a subscription when the consumer started or subscribed (CHECK_CLIENT_CONFIG): a SQL92
 * expression that does not compile (the remark names the line and column), or a broker that does not serve SQL92
 * (enablePropertyFilter off). `cause` is the broker's RemotingResponseError.
 */
export class SubscriptionRefusedError extends TsRocketError {
  constructor(
    readonly topic: string,
    readonly expression: string,
    readonly broker: string,
    readonly responseCode: number,
    readonly remark: string | undefined,
    cause: unknown,
  ) {
    super(
      `broker ${broker} refused the subscription to ${topic} (${JSON.stringify(expression)}): ${remark ?? `code ${responseCode}`}`,
      {
        code: responseCode,
        retriable: false,
        cause,
      },
    );
  }
}

/** A LOCK_BATCH_MQ answer the client could not read (the queues count as not locked). */
export class LockResponseError extends TsRocketError {
  constructor(
    readonly brokerAddr: string,
    problem: string,
  ) {
    super(`lock batch answer of ${brokerAddr} unreadable: ${problem}`, { retriable: true });
  }
}

/** No NameServer knows a route of the topic: it does not exist (or no broker serves it yet). */
export class TopicNotFoundError extends TsRocketError {
  constructor(readonly topic: string) {
    super(`topic ${topic} has no route: it does not exist or no broker serves it`, {
      code: ResponseCode.TOPIC_NOT_EXIST,
      retriable: false,
    });
  }
}

/**
 * ack() or changeInvisibleDuration() came too late: the message's invisible duration ended (it is delivered
 * again, with a new handle) or the handle was already acked or replaced. `responseCode` is the broker's answer.
 */
export class ReceiptHandleExpiredError extends TsRocketError {
  constructor(
    readonly msgId: string,
    readonly responseCode: number,
    readonly remark: string | undefined,
  ) {
    super(`the receipt handle of message ${msgId} is expired or already used${remark ? `: ${remark}` : ''}`, {
      code: responseCode,
      retriable: false,
    });
  }
}

/** A receipt handle that is not one a broker gave (malformed, or of another broker or group). */
export class InvalidReceiptHandleError extends InvalidArgumentError {
  constructor(
    readonly receiptHandle: string,
    problem: string,
  ) {
    super(`invalid receipt handle ${JSON.stringify(receiptHandle)}: ${problem}`, {
      code: ResponseCode.INVALID_PARAMETER,
    });
  }
}

/**
 * A broker refused an automatic batch holding delayed, timer or half messages (RocketMQ answers MESSAGE_ILLEGAL:
 * only tsrocket's broker stores them), or is remembered as refusing them: the members are sent one by one.
 * Internal to the SDK's auto-batching; a caller never sees it.
 */
export class SplitBatchRefusedError extends TsRocketError {
  constructor(
    readonly brokerName: string,
    cause?: unknown,
  ) {
    super(`broker ${brokerName} does not take batches of delayed, timer or half messages`, { cause });
  }
}
