/** Broker counters for GET_BROKER_RUNTIME_INFO and GET_TOPIC_STATS_INFO (in-memory, since start). */
export class BrokerStats {
  putMessages = 0n;
  putBytes = 0n;
  getMessages = 0n;
  getBytes = 0n;
  /** PULL_MESSAGE requests received (not long-poll wake-ups): shows whether idle consumers spin. */
  pullRequests = 0n;
  private readonly perTopicPut = new Map<string, bigint>();
  private readonly perGroupGet = new Map<string, bigint>();

  recordPut(topic: string, msgs: number, bytes: number): void {
    this.putMessages += BigInt(msgs);
    this.putBytes += BigInt(bytes);
    this.perTopicPut.set(topic, (this.perTopicPut.get(topic) ?? 0n) + BigInt(msgs));
  }

  recordGet(group: string, topic: string, msgs: number, bytes: number): void {
    this.getMessages += BigInt(msgs);
    this.getBytes += BigInt(bytes);
    const key = `${topic}@${group}`;
    this.perGroupGet.set(key, (this.perGroupGet.get(key) ?? 0n) + BigInt(msgs));
  }

  putOf(topic: string): bigint {
    return this.perTopicPut.get(topic) ?? 0n;
  }
}
