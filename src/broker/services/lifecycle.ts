/**
 * Broker services and their lifecycle (RocketMQ's BrokerController start/shutdown): an ordered list, started in
 * order and stopped in reverse. A start that fails stops the services already started and reports which one
 * failed. A new background job (schedule, transaction check, POP revive, HA, metrics) is one more entry in
 * Broker's list (broker.ts), not a new timer.
 */
import { TsRocketError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';

export interface BrokerService {
  /** Names the service in logs and errors. */
  readonly name: string;
  start(): void | Promise<void>;
  /** Called once, only after a successful start. */
  stop(): void | Promise<void>;
}

/** A service failed to start; the ones started before it were stopped. */
export class ServiceStartError extends TsRocketError {
  constructor(
    readonly service: string,
    cause: unknown,
  ) {
    super(`broker service ${service} failed to start: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/** A service failed to stop (the others were still stopped); the first failure is the cause. */
export class ServiceStopError extends TsRocketError {
  constructor(
    readonly services: readonly string[],
    cause: unknown,
  ) {
    super(`broker service(s) ${services.join(', ')} failed to stop`, { cause });
  }
}

export class ServiceList {
  private started: BrokerService[] = [];
  private stopping = false;

  constructor(
    private readonly services: readonly BrokerService[],
    private readonly log: Logger,
  ) {}

  /** Starts each service in order; on a failure stops those started (reverse order) and throws ServiceStartError. */
  async startAll(): Promise<void> {
    for (const s of this.services) {
      try {
        if (this.stopping) throw new Error('stopped while starting');
        await s.start();
        // stopAll ran while this one started: it was not on the list yet, so stop it here.
        if (this.stopping) {
          await s.stop();
          throw new Error('stopped while starting');
        }
      } catch (err) {
        this.log.error('service failed to start; stopping the ones started', { service: s.name, err });
        try {
          await this.stopAll();
        } catch (stopErr) {
          this.log.error('stopping after a failed start failed', { err: stopErr });
        }
        throw new ServiceStartError(s.name, err);
      }
      this.started.push(s);
    }
  }

  /** Stops the started services in reverse order; every one is stopped even when another fails. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const failed: string[] = [];
    let firstErr: unknown;
    for (const s of this.started.splice(0).reverse()) {
      try {
        await s.stop();
      } catch (err) {
        this.log.error('service failed to stop', { service: s.name, err });
        if (failed.length === 0) firstErr = err;
        failed.push(s.name);
      }
    }
    if (failed.length > 0) throw new ServiceStopError(failed, firstErr);
  }

  /** Names of the running services, in start order. */
  running(): string[] {
    return this.started.map((s) => s.name);
  }
}
