/**
 * The process's young-generation collection mode. V8 scavenges in parallel by default: the main thread hands
 * pieces of each scavenge to helper threads and waits for all of them. On a machine whose cores are all busy
 * (2 cores, other processes, the broker's own thread pool) a helper is often off-CPU, and the main thread's wait
 * for it — an event-loop pause every request waits behind — grows from ~1 ms to 15–110 ms. A serial scavenge
 * costs the main thread the copying itself (a few MiB of live young objects under a send flood) and waits for no one,
 * but that copying is then the event loop's: a single fast producer got 10–40 % fewer sends through, so serial is
 * a setting (gcParallelScavenge=false), not the default; by default a server scavenges serially only while its
 * connections compete for turns and its event loop waits for a core (gcSerialScavengeWhileContended, run-queue.ts).
 */
import { setFlagsFromString } from 'node:v8';

export const ScavengeMode = { parallel: 'parallel', serial: 'serial' } as const;
export type ScavengeMode = (typeof ScavengeMode)[keyof typeof ScavengeMode];

let configured: ScavengeMode | undefined;
let applied: ScavengeMode | undefined;
/** Servers of this process whose connections compete for turns now (see scavengeWhileContended). */
let contendedServers = 0;

/** Sets V8's scavenge mode for the whole process (the last server started wins; `start` gives both the same). */
export function applyScavengeMode(mode: ScavengeMode): void {
  configured = mode;
  sync();
}

/**
 * A server whose connections start (+1) or stop (-1) competing for turns on oversubscribed cores: while any does, a
 * parallel process scavenges serially. There a helper is often off-CPU and the pause every waiting request sits in is
 * the wait for it; a lone fast producer, and cores with room, keep the helpers and their throughput.
 */
export function scavengeContended(delta: 1 | -1): void {
  contendedServers = Math.max(0, contendedServers + delta);
  sync();
}

function sync(): void {
  if (configured === undefined) return;
  const mode = contendedServers > 0 ? ScavengeMode.serial : configured;
  if (applied === mode) return;
  // A GC flag read at each scavenge, so changing it after V8 started takes effect at the next one.
  setFlagsFromString(mode === ScavengeMode.parallel ? '--parallel-scavenge' : '--no-parallel-scavenge');
  applied = mode;
}

/** The mode in effect, as last applied by a server of this process (or by contention), if any. */
export function scavengeModeApplied(): ScavengeMode | undefined {
  return applied;
}
