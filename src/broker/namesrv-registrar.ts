/**
 * Registration with every NameServer (RocketMQ's BrokerOuterAPI): REGISTER_BROKER (103) every period and at
 * once on topic changes; UNREGISTER_BROKER (104) on close. Failures are logged and retried next period.
 */
import { createLogger } from '../common/log.js';
import { PeriodicTask } from '../common/periodic-task.js';
import { RequestCode, ResponseCode } from '../remoting/codes.js';
import { createRequest, type RemotingCommand } from '../remoting/command.js';
import { encodeBrokerIdentityHeader, encodeRegisterBrokerHeader } from '../remoting/protocol/namesrv-registration.js';
import type { BrokerConfig } from './config.js';
import { namesrvAddrList } from './config.js';
import { CoalescedJob, metadataWriteGapMsMin } from './metadata/coalesced-job.js';
import type { TopicConfigManager } from './metadata/topic-config.js';

const log = createLogger('broker.register');

/** Sends one request to the NameServer at `addr` (over TCP, or in-process for a NameServer in this process). */
export type NamesrvInvoke = (addr: string, req: RemotingCommand, timeoutMs: number) => Promise<RemotingCommand>;

export class NamesrvRegistrar {
  private readonly periodic: PeriodicTask;
  // One registration in flight; changes during it ask for one more, which sends the topic table of its time.
  private readonly rounds = new CoalescedJob(() => this.roundTrip(), metadataWriteGapMsMin);
  private closed = false;

  constructor(
    private readonly config: BrokerConfig,
    private readonly topics: TopicConfigManager,
    private readonly invoke: NamesrvInvoke,
    private readonly brokerAddr: () => string,
  ) {
    this.periodic = new PeriodicTask({
      name: 'namesrv-registration',
      periodMs: config.registerNameServerPeriod,
      log,
      run: () => this.registerAll(),
    });
  }

  /** Registers every period from now on. */
  start(): void {
    this.periodic.start();
  }

  /** Rounds of registration begun so far. */
  get roundsStarted(): number {
    return this.rounds.started;
  }

  /**
   * Registers with every NameServer soon; calls during a round coalesce into one more round, which sends the
   * topic table as it is when that round begins. Settles when a round begun after this call has ended.
   */
  registerAll(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.rounds.request();
  }

  private async roundTrip(): Promise<void> {
    if (this.closed) return;
    const body = Buffer.from(
      JSON.stringify({ topicConfigSerializeWrapper: this.topics.toJSON(), filterServerList: [] }),
    );
    const c = this.config;
    await Promise.all(
      namesrvAddrList(c).map(async (addr) => {
        const req = createRequest(
          RequestCode.REGISTER_BROKER,
          encodeRegisterBrokerHeader({
            brokerName: c.brokerName,
            brokerAddr: this.brokerAddr(),
            clusterName: c.brokerClusterName,
            haServerAddr: '',
            brokerId: c.brokerId,
            compressed: false,
            heartbeatTimeoutMillis: 120_000,
          }),
          body,
        );
        try {
          const resp = await this.invoke(addr, req, c.registerBrokerTimeoutMills);
          if (resp.code !== ResponseCode.SUCCESS)
            log.warn('register refused', { namesrv: addr, code: resp.code, remark: resp.remark });
        } catch (err) {
          log.warn('register failed', { namesrv: addr, err });
        }
      }),
    );
  }

  /** Stops the timer and unregisters from every NameServer. */
  async close(): Promise<void> {
    this.closed = true;
    await this.periodic.stop();
    await this.rounds.idle();
    const c = this.config;
    await Promise.all(
      namesrvAddrList(c).map(async (addr) => {
        const req = createRequest(
          RequestCode.UNREGISTER_BROKER,
          encodeBrokerIdentityHeader({
            brokerName: c.brokerName,
            brokerAddr: this.brokerAddr(),
            clusterName: c.brokerClusterName,
            brokerId: c.brokerId,
          }),
        );
        try {
          await this.invoke(addr, req, c.registerBrokerTimeoutMills);
        } catch (err) {
          log.warn('unregister failed', { namesrv: addr, err });
        }
      }),
    );
  }
}
