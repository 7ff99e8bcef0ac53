/**
 * The broker's send path under the remoting RequestScheduler: which request codes are data-path puts (queued per
 * connection and served in turn) and the scheduler built from the broker's keys. Everything else (heartbeats,
 * routes, admin, offsets, pulls) is dispatched at once and never waits behind sends.
 */
import type { Logger } from '../common/log.js';
import { RequestCode } from '../remoting/codes.js';
import { RequestScheduler } from '../remoting/scheduler.js';
import type { BrokerConfig } from './config.js';

export const sendPathCodes: ReadonlySet<number> = new Set<number>([
  RequestCode.SEND_MESSAGE,
  RequestCode.SEND_MESSAGE_V2,
  RequestCode.SEND_BATCH_MESSAGE,
  RequestCode.CONSUMER_SEND_MSG_BACK,
]);

/** One warning per this period at most while sends are being shed. */
const shedLogPeriodMs = 1000;

export function createSendScheduler(c: BrokerConfig, log: Logger): RequestScheduler {
  let lastLogMs = 0;
  let sinceLog = 0;
  return new RequestScheduler({
    inFlightPerConnectionMax: c.sendInFlightPerConnectionMax,
    inFlightBytesMax: c.sendInFlightBytesMax,
    queueWaitMsMax: c.waitTimeMillsInSendQueue,
    queuedRequestsMax: c.sendThreadPoolQueueCapacity,
    queuedBytesMax: c.sendQueueBytesMax,
    queuedPerConnectionPause: c.sendQueuedPerConnectionMax,
    onShed: (remark, conn) => {
      sinceLog++;
      const now = Date.now();
      if (now - lastLogMs < shedLogPeriodMs) return;
      log.warn('sends answered SYSTEM_BUSY (flow control)', { shed: sinceLog, peer: conn.remoteAddress, remark });
      lastLogMs = now;
      sinceLog = 0;
    },
  });
}
