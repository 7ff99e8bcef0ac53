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
