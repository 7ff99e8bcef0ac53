/**
 * Fair sends under a flood, end to end over loopback: flood connections keep hundreds of sends outstanding
 * against a store that writes one message per millisecond (a slow disk); meanwhile a well-behaved connection
 * sends one at a time, and heartbeats and route queries are timed. The floods get SYSTEM_BUSY
 * ([TIMEOUT_CLEAN_QUEUE]) once their queues wait too long, the well-behaved sender only SEND_OK, heartbeats
 * and routes are answered without waiting behind the sends, and every accepted message is stored.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Broker } from '../../src/broker/broker.js';
import { NameServer } from '../../src/namesrv/namesrv.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { decodeOffsetResponseHeader, encodeQueueHeader } from '../../src/remoting/protocol/offsets.js';
import { encodeSendHeaderV2 } from '../../src/remoting/protocol/send.js';
import { createMessageStore, type MessageStore } from '../../src/store/index.js';

const floodTopic = 'FloodT';
const politeTopic = 'PoliteT';
const queues = 4;
const waitMs = 200;

/** A store whose puts complete one at a time, one per millisecond: a disk slower than the flood. */
function slowStore(store: MessageStore): MessageStore {
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(put: () => Promise<T>): Promise<T> => {
    const next = tail.then(() => sleep(1)).then(put);
    tail = next.catch(() => undefined);
    return next;
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'putMessage' || prop === 'putMessages') {
        const put = Reflect.get(target, prop, receiver) as (arg: unknown) => Promise<unknown>;
        return (arg: unknown) => serial(() => put.call(target, arg));
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

let dir: string;
let namesrv: NameServer;
let broker: Broker;
let brokerAddr: string;
let namesrvAddr: string;
const admin = new RemotingClient({ requestTimeoutMsDefault: 30_000 });

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-fairness-'));
  namesrv = new NameServer({ listenPort: 0, bindAddress: '127.0.0.1', kvConfigPath: path.join(dir, 'kv.json') });
  await namesrv.start();
  namesrvAddr = `127.0.0.1:${namesrv.port}`;
  const store = slowStore(createMessageStore({ storePathRootDir: dir }, { kind: 'memory' }));
  broker = new Broker(
    {
      listenPort: 0,
      listenHost: '127.0.0.1',
      brokerIP1: '127.0.0.1',
      namesrvAddr,
      storePathRootDir: dir,
      waitTimeMillsInSendQueue: waitMs,
      sendInFlightPerConnectionMax: 4,
      sendInFlightBytesMax: 8 * 1024,
      sendQueuedPerConnectionMax: 64,
    },
    {},
    { store },
  );
  await broker.start();
  brokerAddr = `127.0.0.1:${broker.port}`;
  for (const topic of [floodTopic, politeTopic]) {
    const r = await admin.invoke(
      brokerAddr,
      createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, {
        topic,
        readQueueNums: queues,
        writeQueueNums: queues,
        perm: 6,
      }),
    );
    assert.equal(r.code, ResponseCode.SUCCESS);
  }
});

after(async () => {
  await admin.close();
  await broker.close();
  await namesrv.close();
  await rm(dir, { recursive: true, force: true });
});

function sendRequest(topic: string, n: number, bodyBytes: number) {
  const header = encodeSendHeaderV2({
    producerGroup: 'pg',
    topic,
    queueId: n % queues,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    flag: 0,
    properties: '',
    reconsumeTimes: 0,
    batch: false,
  });
  return createRequest(RequestCode.SEND_MESSAGE_V2, header, Buffer.alloc(bodyBytes, 0x66));
}

interface Tally {
  ok: number;
  busy: number;
  other: number;
  remarks: string[];
}

/** Keeps `inflight` sends outstanding on its own connection until `stop.done`. */
async function flood(stop: { done: boolean }, inflight: number): Promise<Tally> {
  const rc = new RemotingClient({ requestTimeoutMsDefault: 30_000 });
  const t: Tally = { ok: 0, busy: 0, other: 0, remarks: [] };
  let n = 0;
  const one = async () => {
    while (!stop.done) {
      const r = await rc.invoke(brokerAddr, sendRequest(floodTopic, n++, 4096));
      if (r.code === ResponseCode.SUCCESS) t.ok++;
      else if (r.code === ResponseCode.SYSTEM_BUSY) {
        t.busy++;
        if (t.remarks.length < 50) t.remarks.push(r.remark ?? '');
        await sleep(5);
      } else t.other++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, one));
  await rc.close();
  return t;
}

/** Runs `op` `count` times, one at a time every `gapMs`; returns each latency (ms) with its result. */
async function timed<T>(count: number, gapMs: number, op: () => Promise<T>): Promise<Array<[number, T]>> {
  const out: Array<[number, T]> = [];
  while (out.length < count) {
    const t0 = performance.now();
    const r = await op();
    out.push([performance.now() - t0, r]);
    await sleep(gapMs);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function stored(topic: string): Promise<number> {
  let total = 0n;
  for (let queueId = 0; queueId < queues; queueId++) {
    const r = await admin.invoke(
      brokerAddr,
      createRequest(RequestCode.GET_MAX_OFFSET, encodeQueueHeader({ topic, queueId })),
    );
    total += decodeOffsetResponseHeader(r) ?? 0n;
  }
  return Number(total);
}

test('during a flood: heartbeats and routes answer at once, floods get SYSTEM_BUSY, the polite sender SEND_OK, nothing accepted is lost', async () => {
  const polite = new RemotingClient({ requestTimeoutMsDefault: 30_000 });
  const probes = new RemotingClient({ requestTimeoutMsDefault: 30_000 });
  const heartbeat = Buffer.from(
    JSON.stringify({ clientID: 'probe@1', producerDataSet: [{ groupName: 'probe' }], consumerDataSet: [] }),
  );
  const stop = { done: false };
  const floods = Array.from({ length: 4 }, () => flood(stop, 300));
  await sleep(500); // the floods' queues fill
  // Each heartbeat is paired with a route query sent in the same turn: the NameServer (no send queue at all) is
  // the pair's control for what the process's share of a busy machine adds to any round trip.
  const [politeSends, pairs] = await Promise.all([
    timed(20, 20, async () => (await polite.invoke(brokerAddr, sendRequest(politeTopic, 0, 128))).code),
    timed(10, 50, () =>
      Promise.all([
        timed(1, 0, async () => {
          return (await probes.invoke(brokerAddr, createRequest(RequestCode.HEART_BEAT, undefined, heartbeat))).code;
        }),
        timed(1, 0, async () => {
          const req = createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: politeTopic });
          return (await probes.invoke(namesrvAddr, req)).code;
        }),
      ]),
    ),
  ]);
  const heartbeats = pairs.map(([, [[hb]]]) => hb as [number, number]);
  const routes = pairs.map(([, [, [route]]]) => route as [number, number]);
  stop.done = true;
  const tallies = await Promise.all(floods);
  await polite.close();
  await probes.close();

  const floodTotal = tallies.reduce((s, t) => ({ ok: s.ok + t.ok, busy: s.busy + t.busy, other: s.other + t.other }), {
    ok: 0,
    busy: 0,
    other: 0,
  });
  const remarks = tallies.flatMap((t) => t.remarks);
  // The floods were shed, with RocketMQ's remark, after waiting at least waitTimeMillsInSendQueue.
  assert.ok(floodTotal.busy > 0, `floods got no SYSTEM_BUSY: ${JSON.stringify(floodTotal)}`);
  assert.equal(floodTotal.other, 0);
  const waitedMs: number[] = [];
  for (const remark of remarks) {
    const m =
      /^\[TIMEOUT_CLEAN_QUEUE\]broker busy, start flow control for a while, period in queue: (\d+)ms, size of queue: \d+$/.exec(
        remark,
      );
    assert.ok(m !== null, `unexpected remark: ${remark}`);
    waitedMs.push(Number(m[1]));
  }
  assert.ok(Math.min(...waitedMs) >= waitMs);

  // The well-behaved connection (one send at a time) was never refused.
  assert.deepEqual(
    politeSends.filter(([, code]) => code !== ResponseCode.SUCCESS),
    [],
  );

  // Heartbeats and route queries do not queue behind the sends: their median is well under the time the floods'
  // sends waited in their queues (compared within the run, so a slow machine slows both sides). A request queued
  // behind them would wait at least that long; half of it leaves room for the CPU share of a busy 2-core machine
  // (at a quarter, runs beside other test files failed with medians of 60–85 ms against 215–234 ms). A heartbeat
  // is measured by what it took over its paired route query: the broker's own wait, without what the machine's
  // load adds to both (at load 35 the plain median passed half the flood's wait).
  assert.ok(heartbeats.every(([, code]) => code === ResponseCode.SUCCESS));
  assert.ok(routes.every(([, code]) => code === ResponseCode.SUCCESS));
  const floodWaitMs = median(waitedMs);
  const hbOverRouteMs = median(heartbeats.map(([ms], i) => ms - (routes[i] as [number, number])[0]));
  const routeMs = median(routes.map(([ms]) => ms));
  assert.ok(
    hbOverRouteMs < floodWaitMs / 2,
    `heartbeat over its route query, median ${hbOverRouteMs.toFixed(1)} ms, flood queue wait ${floodWaitMs} ms`,
  );
  assert.ok(routeMs < floodWaitMs / 2, `route median ${routeMs.toFixed(1)} ms, flood queue wait ${floodWaitMs} ms`);

  // Nothing accepted is lost, nothing refused is stored.
  assert.equal(await stored(floodTopic), floodTotal.ok);
  assert.equal(await stored(politeTopic), politeSends.length);
});
