/**
 * Broker counters since start, with rates over recent windows (RocketMQ's StoreStatsService and
 * BrokerStatsManager): totals and putTps / getTransferedTps for GET_BROKER_RUNTIME_INFO, messages pulled per
 * group and topic for GET_CONSUME_STATS' consumeTps, messages put per topic for GET_TOPIC_STATS_INFO.
 * Recording is an addition and a map lookup; rates come from samples taken by a timer (sample()).
 */

/** How often the broker calls sample() (ms). */
export const statsSampleMs = 5000;
/** Broker-wide rates reach back 10 minutes (RocketMQ reports 10 s, 1 min and 10 min). */
const brokerSamplesMax = (10 * 60_000) / statsSampleMs + 1;
/** Per topic and per group rates reach back one minute (RocketMQ's tpsGroupGetNums is a per-minute rate). */
const keyedSamplesMax = 60_000 / statsSampleMs + 1;
/** A rate is taken over at least this long, so a burst right after the first event is not multiplied up. */
const rateSpanMsMin = 1000;

/** A running total sampled every statsSampleMs; its rate over a window costs nothing per event. */
export class RateCounter {
  total = 0;
  private readonly times: number[] = [];
  private readonly totals: number[] = [];

  constructor(
    private readonly samplesMax: number,
    nowMs: number,
  ) {
    this.sample(nowMs);
  }

  sample(nowMs: number): void {
    if (this.times.length === this.samplesMax) {
      this.times.shift();
      this.totals.shift();
    }
    this.times.push(nowMs);
    this.totals.push(this.total);
  }

  /** True when every sample it holds saw the same total (a full history of nothing). */
  get idle(): boolean {
    return this.times.length === this.samplesMax && this.totals[0] === this.total;
  }

  /** Events per second since the oldest sample inside the last `windowMs`. */
  perSecond(nowMs: number, windowMs: number): number {
    let i = 0;
    while (i < this.times.length - 1 && (this.times[i] as number) < nowMs - windowMs) i++;
    const spanMs = Math.max(rateSpanMsMin, nowMs - (this.times[i] as number));
    return ((this.total - (this.totals[i] as number)) * 1000) / spanMs;
  }
}

export class BrokerStats {
  /** PULL_MESSAGE requests received (not long-poll wake-ups): shows whether idle consumers spin. */
  pullRequests = 0;
  putBytes = 0;
  getBytes = 0;
  private readonly put: RateCounter;
  private readonly got: RateCounter;
  private readonly topicPuts = new Map<string, RateCounter>();
  /** group → topic → messages pulled. */
  private readonly groupGets = new Map<string, Map<string, RateCounter>>();

  constructor(private readonly nowMs: () => number = Date.now) {
    this.put = new RateCounter(brokerSamplesMax, nowMs());
    this.got = new RateCounter(brokerSamplesMax, nowMs());
  }

  /** Messages stored since start. */
  get putMessages(): number {
    return this.put.total;
  }

  /** Messages handed to consumers since start. */
  get getMessages(): number {
    return this.got.total;
  }

  recordPut(topic: string, msgs: number, bytes: number): void {
    this.put.total += msgs;
    this.putBytes += bytes;
    let c = this.topicPuts.get(topic);
    if (c === undefined) {
      c = new RateCounter(keyedSamplesMax, this.nowMs());
      this.topicPuts.set(topic, c);
    }
    c.total += msgs;
  }

  recordGet(group: string, topic: string, msgs: number, bytes: number): void {
    this.got.total += msgs;
    this.getBytes += bytes;
    let byTopic = this.groupGets.get(group);
    if (byTopic === undefined) {
      byTopic = new Map();
      this.groupGets.set(group, byTopic);
    }
    let c = byTopic.get(topic);
    if (c === undefined) {
      c = new RateCounter(keyedSamplesMax, this.nowMs());
      byTopic.set(topic, c);
    }
    c.total += msgs;
  }

  /** Takes one sample of every counter; a per-key counter idle for its whole history is dropped. */
  sample(): void {
    const now = this.nowMs();
    this.put.sample(now);
    this.got.sample(now);
    sampleAll(this.topicPuts, now);
    for (const [group, byTopic] of this.groupGets) {
      sampleAll(byTopic, now);
      if (byTopic.size === 0) this.groupGets.delete(group);
    }
  }

  /** RocketMQ's putTps text: messages stored per second over 10 s, 1 min and 10 min. */
  putTps(): string {
    return windows(this.put, this.nowMs());
  }

  /** RocketMQ's getTransferedTps text: messages handed to consumers per second over 10 s, 1 min and 10 min. */
  getTransferedTps(): string {
    return windows(this.got, this.nowMs());
  }

  /** Messages of `topic` stored per second over the last minute. */
  topicPutTps(topic: string): number {
    return this.topicPuts.get(topic)?.perSecond(this.nowMs(), 60_000) ?? 0;
  }

  /** Messages of `topic` pulled by `group` per second over the last minute (RocketMQ's tpsGroupGetNums). */
  groupGetTps(group: string, topic: string): number {
    return this.groupGets.get(group)?.get(topic)?.perSecond(this.nowMs(), 60_000) ?? 0;
  }
}

function sampleAll(counters: Map<string, RateCounter>, now: number): void {
  for (const [key, c] of counters) {
    c.sample(now);
    if (c.idle) counters.delete(key);
  }
}

function windows(c: RateCounter, now: number): string {
  return [10_000, 60_000, 600_000].map((w) => c.perSecond(now, w).toFixed(2)).join(' ');
}
