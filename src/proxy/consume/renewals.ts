/**
 * Auto-renewal of received messages (ReceiveMessage with auto_renew, what PushConsumers ask for; RocketMQ 5.3.3's
 * DefaultReceiptHandleManager): a message stays invisible while its consumer works on it, its invisible time
 * extended shortly before it ends. The client keeps the receipt handle it first got; ack, change and forward map
 * it to the current one here and end the renewal. A client that said goodbye, or has no session and was not seen
 * for `clientIdleMs` (no receive, ack or change), has its messages made visible again soon; none is renewed past
 * `renewMaxMs`.
 */
import type { ChangeResult } from '../../broker/pop/types.js';

export interface RenewalOptions {
  /** Invisible time of the first delivery (RocketMQ's defaultInvisibleTimeMills). */
  readonly firstInvisibleTimeMs: number;
  /** Renewed when fewer than this many ms of invisibility remain (renewAheadTimeMillis). */
  readonly renewAheadMs: number;
  /** The n-th renewal extends by renewStepsMs[n] (the last repeats; RocketMQ's RenewStrategyPolicy). */
  readonly renewStepsMs: readonly number[];
  /** No renewal this long after the first delivery (renewMaxTimeMillis): the message comes back when due. */
  readonly renewMaxMs: number;
  /** A client silent this long is gone: its messages become visible after `returnInvisibleTimeMs`. */
  readonly clientIdleMs: number;
  /** The invisible time left to a gone client's messages (invisibleTimeMillisWhenClear). */
  readonly returnInvisibleTimeMs: number;
  /** A failed renewal is tried this many times in all (maxRenewRetryTimes). */
  readonly renewTriesMax: number;
  /** How often due renewals are looked for (renewSchedulePeriodMillis). */
  readonly scanPeriodMs: number;
  /**
   * Most messages renewed for one client, and for all: past them a message is not renewed (it comes back when its
   * first invisible time ends), so a client that receives and never acks cannot grow this table without bound.
   */
  readonly heldPerClientMax: number;
  readonly heldMax: number;
}

export const renewalDefaults: RenewalOptions = {
  firstInvisibleTimeMs: 60_000,
  renewAheadMs: 10_000,
  renewStepsMs: [60_000, 180_000, 300_000, 600_000, 1_800_000, 3_600_000],
  renewMaxMs: 3 * 3600 * 1000,
  clientIdleMs: 120_000,
  returnInvisibleTimeMs: 1000,
  renewTriesMax: 3,
  scanPeriodMs: 5000,
  heldPerClientMax: 65_536,
  heldMax: 1_048_576,
};

/** What renewing needs from POP. */
export type ChangeInvisible = (
  group: string,
  topic: string,
  handle: string,
  invisibleTimeMs: number,
) => Promise<ChangeResult>;

interface Held {
  readonly group: string;
  readonly topic: string;
  /** The handle POP answers to now (changes with each renewal). */
  handle: string;
  visibleAtMs: number;
  readonly firstDeliveryMs: number;
  renewals: number;
  failures: number;
  /** A renewal under way: whoever takes the handle waits for it, so no ack races a change. */
  inflight: Promise<void> | undefined;
}

interface ClientHeld {
  lastSeenMs: number;
  /** Forgotten (gone, released): its messages no longer count. */
  gone: boolean;
  /** By the handle the client was given. */
  readonly held: Map<string, Held>;
}

export class ReceiptRenewals {
  private readonly clients = new Map<string, ClientHeld>();
  private held = 0;

  /**
   * `connected`: whether the client still has a session (Telemetry stream or recent heartbeat); such a client is
   * never taken for gone, however long its listener works without a receive or an ack.
   */
  constructor(
    private readonly change: ChangeInvisible,
    readonly opts: RenewalOptions = renewalDefaults,
    private readonly now: () => number = Date.now,
    private readonly connected: (clientId: string) => boolean = () => false,
  ) {}

  /** Messages being renewed now (all clients). */
  get size(): number {
    return this.held;
  }

  /** Any consume call of this client: it is alive. */
  seen(clientId: string): void {
    const c = this.clients.get(clientId);
    if (c !== undefined) c.lastSeenMs = this.now();
  }

  /**
   * Start renewing a message just delivered with `handle`, invisible until popTimeMs + invisibleTimeMs; false when a
   * bound is reached (the message is then not renewed).
   */
  add(
    clientId: string,
    group: string,
    topic: string,
    handle: string,
    popTimeMs: number,
    invisibleTimeMs: number,
  ): boolean {
    const now = this.now();
    let c = this.clients.get(clientId);
    if (c === undefined) {
      if (this.held >= this.opts.heldMax) return false;
      c = { lastSeenMs: now, gone: false, held: new Map() };
      this.clients.set(clientId, c);
    }
    c.lastSeenMs = now;
    if (this.held >= this.opts.heldMax || c.held.size >= this.opts.heldPerClientMax || c.held.has(handle)) return false;
    this.held++;
    c.held.set(handle, {
      group,
      topic,
      handle,
      visibleAtMs: popTimeMs + invisibleTimeMs,
      firstDeliveryMs: now,
      renewals: 0,
      failures: 0,
      inflight: undefined,
    });
    return true;
  }

  /**
   * The handle POP knows for the one a client holds, and the end of its renewal (the client acks, changes or
   * forwards it). A handle never renewed is its own answer.
   */
  async take(clientId: string, handle: string): Promise<string> {
    const c = this.clients.get(clientId);
    const h = c?.held.get(handle);
    if (c === undefined || h === undefined) return handle;
    c.lastSeenMs = this.now();
    this.drop(c, handle);
    if (h.inflight !== undefined) await h.inflight;
    return h.handle;
  }

  /** One pass: forget gone clients (their messages visible soon), renew what is about to become visible. */
  async scan(): Promise<void> {
    const now = this.now();
    const work: Promise<void>[] = [];
    for (const [clientId, c] of this.clients) {
      if (now - c.lastSeenMs > this.opts.clientIdleMs && !this.connected(clientId)) {
        this.forget(clientId, c);
        for (const h of c.held.values()) work.push(this.giveBack(h));
        continue;
      }
      for (const [key, h] of c.held) {
        if (h.inflight !== undefined || h.visibleAtMs - now > this.opts.renewAheadMs) continue;
        if (now - h.firstDeliveryMs >= this.opts.renewMaxMs) {
          this.drop(c, key);
          continue;
        }
        h.inflight = this.renew(c, key, h).finally(() => {
          h.inflight = undefined;
        });
        work.push(h.inflight);
      }
      if (c.held.size === 0 && now - c.lastSeenMs > this.opts.clientIdleMs / 2) this.forget(clientId, c);
    }
    await Promise.all(work);
  }

  /** The client said goodbye (or its session expired): what it still holds becomes visible soon. */
  async release(clientId: string): Promise<void> {
    const c = this.clients.get(clientId);
    if (c === undefined) return;
    this.forget(clientId, c);
    await Promise.all([...c.held.values()].map((h) => this.giveBack(h)));
  }

  /** Stop: every held message is left to become visible when its current invisible time ends. */
  clear(): void {
    for (const c of this.clients.values()) c.gone = true;
    this.clients.clear();
    this.held = 0;
  }

  private drop(c: ClientHeld, key: string): void {
    if (c.held.delete(key) && !c.gone) this.held--;
  }

  private forget(clientId: string, c: ClientHeld): void {
    if (c.gone) return;
    c.gone = true;
    this.clients.delete(clientId);
    this.held -= c.held.size;
  }

  private async renew(c: ClientHeld, key: string, h: Held): Promise<void> {
    const steps = this.opts.renewStepsMs;
    const stepMs = steps[Math.min(h.renewals, steps.length - 1)] ?? this.opts.firstInvisibleTimeMs;
    let r: ChangeResult;
    try {
      r = await this.change(h.group, h.topic, h.handle, stepMs);
    } catch {
      r = { status: 'refused', code: 1, remark: 'renewal failed' };
    }
    if (r.status === 'ok') {
      h.handle = r.handle;
      h.visibleAtMs = r.popTimeMs + r.invisibleTimeMs;
      h.renewals++;
      h.failures = 0;
      return;
    }
    // Expired (acked elsewhere, or past its deadline): nothing left to renew. Refused: a few more tries.
    if (r.status === 'expired' || ++h.failures >= this.opts.renewTriesMax) this.drop(c, key);
  }

  private async giveBack(h: Held): Promise<void> {
    if (h.inflight !== undefined) await h.inflight;
    try {
      await this.change(h.group, h.topic, h.handle, this.opts.returnInvisibleTimeMs);
    } catch {
      // Left to its current invisible time.
    }
  }
}
