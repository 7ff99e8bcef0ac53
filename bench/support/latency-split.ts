/**
 * Where a small send's latency goes, for bench:fairness `--split`: timestamps of each small send (SEND_MESSAGE(_V2)
 * with a body under 1 KiB) on both sides of the connection, taken by wrapping Channel's methods (the product's code
 * is unchanged; this module is loaded only by the bench and, via `--import`, by the broker it starts), with the main
 * thread's on-CPU and run-queue time (/proc/thread-self/schedstat) at each. The clock is process.hrtime
 * (CLOCK_MONOTONIC), the same in every process of the host.
 */
import { openSync, readSync, writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { Channel } from '../../src/remoting/connection.js';

/** [ms since boot, main-thread on-CPU ms, main-thread runnable-waiting ms]. */
export type Stamp = [number, number, number];

const statBuf = Buffer.alloc(256);
let statFd = -1;
export function stamp(): Stamp {
  const t = Number(process.hrtime.bigint()) / 1e6;
  // Opened by the main thread: thread-self is the event loop's thread.
  if (statFd < 0) statFd = openSync('/proc/thread-self/schedstat', 'r');
  const n = readSync(statFd, statBuf, 0, statBuf.length, 0);
  const f = statBuf.toString('latin1', 0, n).split(' ');
  return [t, Number(f[0]) / 1e6, Number(f[1]) / 1e6];
}

const smallSend = (cmd: RemotingCommand) =>
  (cmd.code === 10 || cmd.code === 310) && cmd.body !== undefined && cmd.body.length < 1024;

/** One small send as the broker saw it: read (socket readable), dispatched (decoded), answered, written. */
export interface BrokerSide {
  opaque: number;
  read: Stamp;
  dispatched: Stamp;
  answered?: Stamp;
  written?: Stamp;
  /** The last reads of any connection before this one: the broker's CPU and waits before it read this send. */
  readsBefore: Stamp[];
}

/** One small send as the client saw it: invoked, written (uncork), response read, response matched. */
export interface ClientSide {
  opaque: number;
  invoked: Stamp;
  written?: Stamp;
  read?: Stamp;
  completed?: Stamp;
}

type Methods = Record<string, (this: ChannelState, ...args: unknown[]) => unknown>;
interface ChannelState {
  turnShare?: unknown;
  splitRead?: Stamp;
  splitBroker?: BrokerSide;
  splitClient?: ClientSide;
  splitUncork?: 'broker' | 'client';
}

const ringSize = 64;

/** Wraps Channel's methods in this process; returns the records, filled as sends pass. */
export function installSplit(): { broker: BrokerSide[]; client: ClientSide[] } {
  const out = { broker: [] as BrokerSide[], client: [] as ClientSide[] };
  const proto = Channel.prototype as unknown as Methods;
  const ring: Stamp[] = [];
  const wrap = (
    name: string,
    before: (self: ChannelState, args: unknown[]) => void,
    afterCall?: (self: ChannelState) => void,
  ) => {
    const original = proto[name];
    if (original === undefined) throw new Error(`Channel has no method ${name}`);
    proto[name] = function (this: ChannelState, ...args: unknown[]) {
      before(this, args);
      const r = original.apply(this, args);
      afterCall?.(this);
      return r;
    };
  };
  wrap('onData', (self) => {
    const s = stamp();
    self.splitRead = s;
    if (ring.length >= ringSize) ring.shift();
    ring.push(s);
  });
  wrap('dispatch', (self, [req]) => {
    if (self.turnShare === undefined || !smallSend(req as RemotingCommand)) return;
    const rec: BrokerSide = {
      opaque: (req as RemotingCommand).opaque,
      read: self.splitRead ?? stamp(),
      dispatched: stamp(),
      readsBefore: ring.slice(),
    };
    self.splitBroker = rec;
    out.broker.push(rec);
  });
  wrap('answer', (self, [req]) => {
    const rec = self.splitBroker;
    if (rec === undefined || rec.opaque !== (req as RemotingCommand).opaque || rec.answered !== undefined) return;
    rec.answered = stamp();
    self.splitUncork = 'broker';
  });
  wrap(
    'uncork',
    () => undefined,
    (self) => {
      if (self.splitUncork === 'broker' && self.splitBroker !== undefined) self.splitBroker.written ??= stamp();
      if (self.splitUncork === 'client' && self.splitClient !== undefined) self.splitClient.written ??= stamp();
      self.splitUncork = undefined;
    },
  );
  wrap('invoke', (self, [req]) => {
    if (self.turnShare !== undefined || !smallSend(req as RemotingCommand)) return;
    const rec: ClientSide = { opaque: (req as RemotingCommand).opaque, invoked: stamp() };
    self.splitClient = rec;
    self.splitUncork = 'client';
    out.client.push(rec);
  });
  wrap('complete', (self, [resp]) => {
    const c = self.splitClient;
    if (c === undefined || c.opaque !== (resp as RemotingCommand).opaque) return;
    c.read = self.splitRead;
    c.completed = stamp();
  });
  return out;
}

/** One GC pause: start (ms since boot, the stamps' clock), duration ms, 'scavenge' / 'mark-compact' / other. */
export type GcPause = [number, number, string];

/** Records this process's GC pauses (PerformanceObserver 'gc'). */
export function recordGc(): GcPause[] {
  const out: GcPause[] = [];
  const offsetMs = Number(process.hrtime.bigint()) / 1e6 - performance.now();
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1;
      out.push([e.startTime + offsetMs, e.duration, kinds[kind] ?? 'other']);
    }
  }).observe({ entryTypes: ['gc'] });
  return out;
}

/** The broker's side as the bench reads it. */
export interface BrokerSplitFile {
  sends: BrokerSide[];
  gc: GcPause[];
}

/** Writes the broker's records as JSON to `file` when the process exits (read by the bench). */
export function writeAtExit(file: string, records: { broker: BrokerSide[] }, gc: GcPause[]): void {
  process.on('exit', () => {
    if (records.broker.length === 0) return;
    const out: BrokerSplitFile = { sends: records.broker, gc };
    writeFileSync(file, JSON.stringify(out));
  });
}
