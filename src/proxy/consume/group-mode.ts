/** How a consumer group consumes over POP: FIFO when its config says consumeMessageOrderly (RocketMQ 5). */
import type { SubscriptionGroupConfig } from '../../broker/metadata/subscription-groups.js';

export function isFifoGroup(g: SubscriptionGroupConfig): boolean {
  return g.consumeMessageOrderly === true;
}
