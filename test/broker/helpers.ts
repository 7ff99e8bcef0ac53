/** Shared setup for broker tests: a broker on an ephemeral loopback port over a temp dir. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Broker } from '../../src/broker/broker.js';
import type { BrokerConfig } from '../../src/broker/config.js';
import type { BatchItem } from '../../src/broker/processors/batch-codec.js';
import { encodeProperties } from '../../src/common/properties.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/command.js';
import { createMessageStore, type MessageStore } from '../../src/store/index.js';

/** 18 delay levels of 100 ms: retries (level 3 + reconsumeTimes) and delayed sends come back quickly in tests. */
export const fastMessageDelayLevel = Array.from({ length: 18 }, () => '100ms').join(' ');

export interface Harness {
  broker: Broker;
  store: MessageStore;
  client: RemotingClient;
  addr: string;
  dir: string;
  restart(over?: Partial<BrokerConfig>): Promise<void>;
  close(): Promise<void>;
}

/** What a request needs: a client and the broker's address. */
export type Endpoint = Pick<Harness, 'client' | 'addr'>;

export async function startHarness(over: Partial<BrokerConfig> = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-broker-'));
  const store = createMessageStore({ storePathRootDir: dir }, { kind: 'memory' });
  const config = (more: Partial<BrokerConfig>): Partial<BrokerConfig> => ({
    listenPort: 0,
    listenHost: '127.0.0.1',
    namesrvAddr: '',
    storePathRootDir: dir,
    longPollingSweepMs: 50,
    ...over,
    ...more,
  });
  const h: Harness = {
    broker: new Broker(config({}), { messageDelayLevel: fastMessageDelayLevel }, { store }),
    store,
    client: new RemotingClient(),
    addr: '',
    dir,
    async restart(more = {}) {
      await h.broker.close();
      await h.client.close();
      h.client = new RemotingClient();
      h.broker = new Broker(config(more), { messageDelayLevel: fastMessageDelayLevel }, { store });
      await h.broker.start();
      h.addr = `127.0.0.1:${h.broker.port}`;
    },
    async close() {
      await h.client.close();
      await h.broker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await h.broker.start();
  h.addr = `127.0.0.1:${h.broker.port}`;
  return h;
}

export function call(
  h: Endpoint,
  code: number,
  fields: Record<string, string | number | boolean | bigint | undefined>,
  body?: Buffer,
  timeoutMs = 5000,
): Promise<RemotingCommand> {
  return h.client.invoke(h.addr, createRequest(code, fields, body), timeoutMs);
}

export async function createTopic(h: Endpoint, topic: string, queues = 4): Promise<void> {
  const r = await call(h, RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic,
    readQueueNums: queues,
    writeQueueNums: queues,
    perm: 6,
  });
  if (r.code !== 0) throw new Error(`create topic failed: ${r.code} ${r.remark}`);
}

/** The one-letter SEND_MESSAGE_V2 header (producer group pg, TBW102, 4 default queues) of a send to `queueId`. */
function sendV2Header(topic: string, queueId: number, properties: string) {
  return { a: 'pg', b: topic, c: 'TBW102', d: 4, e: queueId, f: 0, g: Date.now(), h: 0, i: properties, j: 0, k: false };
}

/** SEND_MESSAGE_V2 with one-letter header names. */
export function sendV2(
  h: Endpoint,
  topic: string,
  body: string | Buffer,
  props: Record<string, string> = {},
  queueId = 0,
  timeoutMs = 5000,
) {
  return call(
    h,
    RequestCode.SEND_MESSAGE_V2,
    sendV2Header(topic, queueId, encodeProperties(props)),
    Buffer.isBuffer(body) ? body : Buffer.from(body),
    timeoutMs,
  );
}

export function pull(
  h: Endpoint,
  topic: string,
  queueId: number,
  queueOffset: number | bigint,
  extra: Record<string, string | number | boolean | bigint | undefined> = {},
  timeoutMs = 5000,
) {
  return call(
    h,
    RequestCode.PULL_MESSAGE,
    {
      consumerGroup: 'cg',
      topic,
      queueId,
      queueOffset,
      maxMsgNums: 32,
      sysFlag: 0,
      commitOffset: 0,
      suspendTimeoutMillis: 1000,
      ...extra,
    },
    undefined,
    timeoutMs,
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(20);
  }
  return check();
}

/** A SEND_BATCH_MESSAGE of `items` to `topic`'s queue `queueId`, from producer group pg. */
export function sendBatch(h: Endpoint, topic: string, items: readonly BatchItem[], queueId = 0) {
  return call(
    h,
    RequestCode.SEND_BATCH_MESSAGE,
    { ...sendV2Header(topic, queueId, ''), m: true },
    encodeBatchBody(items),
  );
}

/** A SEND_BATCH_MESSAGE body (RocketMQ's MessageDecoder.encodeMessages layout) from items. */
export function encodeBatchBody(items: readonly BatchItem[]): Buffer {
  const parts: Buffer[] = [];
  for (const it of items) {
    const props = typeof it.properties === 'string' ? Buffer.from(it.properties, 'utf8') : it.properties;
    const head = Buffer.alloc(20);
    head.writeInt32BE(22 + it.body.length + props.length, 0);
    head.writeInt32BE(it.flag, 12);
    head.writeInt32BE(it.body.length, 16);
    const propsLength = Buffer.alloc(2);
    propsLength.writeUInt16BE(props.length, 0);
    parts.push(head, it.body, propsLength, props);
  }
  return Buffer.concat(parts);
}
