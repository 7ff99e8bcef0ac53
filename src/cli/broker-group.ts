/**
 * The brokers of `tsrocket start --brokers N`: N broker processes (broker-child.ts), one cluster, each with its
 * own event loop, store directory, ports and brokerName, as RocketMQ runs several brokers on one host. They
 * register with the NameServer of this process through their IPC channel (as `invokeLocal`), so the NameServer's
 * port can stay closed until every broker is routed.
 *
 * A broker that dies after it served is logged, its route is removed at once (clients stop picking its queues),
 * and it is restarted: its store recovers as after any crash, and the other brokers serve meanwhile. A broker
 * that fails to come up (at start or on a restart), or dies `restartsMax` times within `restartWindowMs`, stops
 * the whole start with an error: a supervisor sees the exit, rather than a cluster quietly running short.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Admin } from '../client/admin/admin.js';
import { TsRocketError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { NameServer } from '../namesrv/namesrv.js';
import { decodeFrame, encodeFrameParts } from '../remoting/codec.js';
import { RequestCode, ResponseCode } from '../remoting/codes.js';
import type { BrokerChildArgs, ChildMessage, ParentMessage } from './broker-ipc.js';
import type { Component } from './lifecycle.js';
import { memberName, type StartBrokerInput } from './start-config.js';
import { TopicSpread } from './topic-spread.js';

/** A broker process exited before it served, or kept dying. */
export class BrokerProcessError extends TsRocketError {}

const childPath = fileURLToPath(new URL('./broker-child.js', import.meta.url));
/** Restarts of one broker allowed within `restartWindowMs` before the start gives up. */
export const restartsMax = 3;
export const restartWindowMs = 60_000;
/** A broker process that has not exited this long after SIGTERM is killed. */
const stopTimeoutMs = 10_000;

export interface BrokerGroupOptions {
  input: StartBrokerInput;
  count: number;
  namesrv: NameServer;
  namesrvAddr: string;
  namesrvPort: number;
  log: Logger;
  /** A broker cannot be kept running: the caller stops everything and exits 1. */
  onFatal(why: string): void;
}

/** What a serving broker process reported. */
export interface BrokerMember {
  brokerName: string;
  clusterName: string;
  brokerId: number;
  brokerAddr: string;
  grpcEndpoint: string | undefined;
  pid: number;
}

interface Slot {
  index: number;
  child: ChildProcess;
  member: BrokerMember | undefined;
  exited: Promise<void>;
  restartsAtMs: number[];
}

export class BrokerGroup implements Component {
  readonly name = 'brokers';
  private readonly slots: Slot[] = [];
  private stopping = false;
  private readonly spread: TopicSpread;
  private admin: Admin | undefined;

  private constructor(private readonly opts: BrokerGroupOptions) {
    this.spread = new TopicSpread(
      opts.namesrv.routes,
      async (brokerAddr, topicName, like) => {
        this.admin ??= new Admin({ nameServer: opts.namesrvAddr, timeoutMs: 10_000 });
        await this.admin.createOrUpdateTopic(
          { brokerAddr },
          { topicName, readQueueNums: like.readQueueNums, writeQueueNums: like.writeQueueNums, perm: like.perm },
        );
      },
      opts.log,
    );
  }

  /** Starts every broker process; resolves when all serve and registered. If one fails, the others are stopped. */
  static async start(opts: BrokerGroupOptions): Promise<BrokerGroup> {
    const group = new BrokerGroup(opts);
    try {
      await Promise.all(Array.from({ length: opts.count }, (_, i) => group.spawn(i, [])));
    } catch (err) {
      await group.close();
      throw err;
    }
    return group;
  }

  /** The serving brokers, in member order. */
  members(): BrokerMember[] {
    return this.slots.flatMap((s) => (s.member === undefined ? [] : [s.member]));
  }

  /** SIGTERM to every broker process (each closes its broker and unregisters), then waits for them. */
  async close(): Promise<void> {
    this.stopping = true;
    await this.admin?.close();
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.child.exitCode !== null || s.child.signalCode !== null) return;
        s.child.kill('SIGTERM');
        const timer = setTimeout(() => s.child.kill('SIGKILL'), stopTimeoutMs);
        await s.exited;
        clearTimeout(timer);
      }),
    );
  }

  /** Forks member `index`; resolves when it serves, rejects if it exits first. */
  private spawn(index: number, restartsAtMs: number[]): Promise<void> {
    const { opts } = this;
    const args: BrokerChildArgs = {
      input: opts.input,
      index,
      namesrvAddr: opts.namesrvAddr,
      namesrvPort: opts.namesrvPort,
    };
    // Same process group and session as this process: a supervisor's signal to the group reaches every broker,
    // and the scheduler counts them with it. A Ctrl+C reaches them too; they ignore SIGINT and wait for SIGTERM.
    const child = fork(childPath, [JSON.stringify(args)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    let onExit: (code: number | null, signal: NodeJS.Signals | null) => void = () => undefined;
    const slot: Slot = {
      index,
      child,
      member: undefined,
      exited: new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          onExit(code, signal);
          resolve();
        });
      }),
      restartsAtMs,
    };
    this.slots[index] = slot;
    return new Promise((resolve, reject) => {
      onExit = (code, signal) => {
        if (slot.member !== undefined) this.died(slot, code, signal);
        else if (!this.stopping) {
          reject(
            new BrokerProcessError(
              `broker process ${index} (pid ${child.pid}) exited before it served: ${how(code, signal)}`,
            ),
          );
        } else resolve();
      };
      child.on('message', (raw) => {
        const msg = raw as ChildMessage;
        if (msg.t === 'ns') void this.serveNamesrv(slot, msg.id, msg.frame);
        else if (msg.t === 'ready') {
          const { t: _, ...info } = msg;
          slot.member = { ...info, pid: child.pid ?? 0 };
          resolve();
        }
      });
    });
  }

  /** A registration request of a broker process, served by the NameServer of this process. */
  private async serveNamesrv(slot: Slot, id: number, frame: Uint8Array): Promise<void> {
    let reply: ParentMessage;
    try {
      const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
      const req = decodeFrame(bytes.subarray(4));
      const resp = await this.opts.namesrv.invokeLocal(req);
      if (req.code === RequestCode.REGISTER_BROKER && resp.code === ResponseCode.SUCCESS && !this.stopping) {
        this.spread.afterRegistration(memberName(slot.index), this.addrs(), req.extFields?.['clusterName'] ?? '');
      }
      reply = { t: 'ns-reply', id, frame: Buffer.concat(encodeFrameParts(resp)) };
    } catch (err) {
      reply = { t: 'ns-error', id, message: err instanceof Error ? err.message : String(err) };
    }
    // A child that is exiting may still look connected: the write then fails (EPIPE) and its exit is handled
    // by 'exit'; with a callback the failure is not an unhandled 'error' event.
    if (slot.child.connected) slot.child.send(reply, (err) => this.replyFailed(slot, err));
  }

  private replyFailed(slot: Slot, err: Error | null): void {
    if (err === null || this.stopping) return;
    this.opts.log.warn('reply to a broker process not sent', { index: slot.index, err });
  }

  /** brokerName → address of every serving broker. */
  private addrs(): Map<string, string> {
    return new Map(this.members().map((m) => [m.brokerName, m.brokerAddr]));
  }

  private died(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    const m = slot.member as BrokerMember;
    slot.member = undefined;
    this.spread.forget(m.brokerName);
    if (this.stopping) return;
    const { log } = this.opts;
    log.error('broker process died', { brokerName: m.brokerName, pid: m.pid, exit: how(code, signal) });
    // Its registration never times out by itself for two minutes: drop the route now so clients stop using it.
    this.opts.namesrv.routes.unregisterBroker(m);
    const now = Date.now();
    const recent = slot.restartsAtMs.filter((t) => now - t < restartWindowMs);
    if (recent.length >= restartsMax) {
      this.opts.onFatal(`${m.brokerName} died ${recent.length + 1} times within ${restartWindowMs / 1000} s`);
      return;
    }
    recent.push(now);
    log.warn('restarting broker process', { brokerName: m.brokerName, restarts: recent.length });
    this.spawn(slot.index, recent).then(
      () => log.info('broker process restarted', { brokerName: m.brokerName, pid: this.slots[slot.index]?.child.pid }),
      (err: unknown) => this.opts.onFatal(`${m.brokerName} failed to restart: ${(err as Error).message}`),
    );
  }
}

function how(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `signal ${signal}` : `exit code ${code}`;
}
