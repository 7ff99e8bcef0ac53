/** Errors of the client SDK beyond the remoting and argument errors (exported from the package root). */
import { TsRocketError } from '../common/errors.js';

/** No master address is known for a queue's broker group (route not yet fetched, or the master is down). */
export class BrokerNotFoundError extends TsRocketError {
  constructor(
    readonly brokerName: string,
    readonly topic: string,
  ) {
    super(`broker ${brokerName} of ${topic} has no known master`, { retriable: true });
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
