/**
 * Before a consumer with a SQL92 subscription starts (or subscribes while running), each master broker of the
 * topic is asked whether it serves it (CHECK_CLIENT_CONFIG 46, as the Java client's checkClientInBroker), so a bad
 * expression or a broker without enablePropertyFilter fails start() / subscribe() with the broker's reason, not
 * later as pull errors. Tag subscriptions need no check.
 */
import { RemotingResponseError } from '../remoting/errors.js';
import type { ClientInstance } from './client-instance.js';
import { SubscriptionRefusedError } from './errors.js';
import { ExpressionType, type SubscriptionData } from './subscription.js';

export async function checkSubscriptionsInBrokers(
  inst: ClientInstance,
  group: string,
  subs: Iterable<SubscriptionData>,
): Promise<void> {
  const checks: Promise<void>[] = [];
  for (const sub of subs) {
    if (sub.expressionType === ExpressionType.tag) continue;
    // A topic without a route yet has no broker to ask; its pulls answer the same refusal if it comes to that.
    const route = inst.cachedRoute(sub.topic) ?? (await inst.updateRoute(sub.topic).catch(() => undefined));
    for (const b of route?.brokerDatas ?? []) {
      const addr = inst.masterAddr(b.brokerName);
      if (addr !== undefined) checks.push(checkOne(inst, addr, group, sub));
    }
  }
  // The first refusal wins; every check has finished by then.
  const results = await Promise.allSettled(checks);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

async function checkOne(inst: ClientInstance, addr: string, group: string, sub: SubscriptionData): Promise<void> {
  try {
    await inst.api.checkClientConfig(addr, inst.clientId, group, sub);
  } catch (err) {
    if (!(err instanceof RemotingResponseError)) throw err;
    throw new SubscriptionRefusedError(sub.topic, sub.subString, addr, err.responseCode, err.remark, err);
  }
}
