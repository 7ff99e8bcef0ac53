/** RequestScheduler: per-connection bounds, round robin between connections, shedding only over the share. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseCode } from '../../src/remoting/codes.js';
import { createRequest, createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import type { Processor, RemotingConnection } from '../../src/remoting/connection.js';
import { RequestScheduler, type RequestSchedulerOptions } from '../../src/remoting/scheduler.js';

/** A connection as the scheduler sees it: only identity and close callbacks matter. */
class TestConnection implements RemotingConnection {
  closed = false;
  private readonly closeCbs: Array<() => void> = [];
  constructor(
    readonly id: number,
    readonly remoteAddress = `10.0.0.${id}:1000`,
  ) {}
  send(): void {}
  invoke(): Promise<RemotingCommand> {
    return Promise.reject(new Error('not used'));
  }
  invokeOneway(): void {}
  close(): void {
    this.closed = true;
    for (const cb of this.closeCbs.splice(0)) cb();
  }
  onClose(cb: () => void): void {
    this.closeCbs.push(cb);
  }
  reading = true;
  pauseReading(): void {
    this.reading = false;
  }
  resumeReading(): void {
    this.reading = true;
  }
}

/** A processor whose requests finish when the test says: `started` in start order, `finish(n)` completes n. */
function heldProcessor() {
  const started: Array<{ req: RemotingCommand; conn: RemotingConnection; done: () => void; finished: boolean }> = [];
  const processor: Processor = (req, conn) =>
    new Promise<RemotingCommand>((resolve) => {
      started.push({ req, conn, finished: false, done: () => resolve(createResponse(req, ResponseCode.SUCCESS)) });
    });
  return {
    processor,
    started,
    /** Completes the oldest `n` unfinished requests, then lets the scheduler admit the next ones. */
    async finish(n = 1) {
      for (let i = 0; i < n; i++) {
        const s = started.find((x) => !x.finished);
        if (s === undefined) break;
        s.finished = true;
        s.done();
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}

function options(over: Partial<RequestSchedulerOptions> = {}): RequestSchedulerOptions {
  return {
    inFlightPerConnectionMax: 2,
    inFlightBytesMax: 1024 * 1024,
    queueWaitMsMax: 200,
    queuedRequestsMax: 1000,
    queuedBytesMax: 1024 * 1024,
    queuedPerConnectionPause: 1000,
    // A clock that stands still: a request never ages out of its queue unless a test moves the clock (on a busy
    // machine the real one shed requests a test meant to serve, past queueWaitMsMax).
    nowMs: () => 0,
    ...over,
  };
}

const sendOf = (tag: string, bytes = 100) => createRequest(310, { tag }, Buffer.alloc(bytes));

test('an uncontended request runs at once and gets the processor answer', async () => {
  const s = new RequestScheduler(options());
  const conn = new TestConnection(1);
  const gated = s.gate((req) => createResponse(req, ResponseCode.SUCCESS, 'done'));
  const resp = await gated(sendOf('a'), conn);
  assert.equal(resp?.remark, 'done');
  assert.deepEqual(s.stats(), {
    inFlight: 0,
    inFlightBytes: 0,
    queued: 0,
    queuedBytes: 0,
    shedTimeout: 0,
    shedOverload: 0,
  });
});

test('a connection has at most its bound in flight; the rest waits in its own queue, in order', async () => {
  const s = new RequestScheduler(options({ inFlightPerConnectionMax: 2 }));
  const conn = new TestConnection(1);
  const p = heldProcessor();
  const answers = ['a', 'b', 'c', 'd'].map((t) => s.submit(p.processor, sendOf(t), conn));
  assert.equal(p.started.length, 2);
  assert.equal(s.stats().queued, 2);
  await p.finish(1);
  assert.deepEqual(
    p.started.map((x) => x.req.extFields?.['tag']),
    ['a', 'b', 'c'],
  );
  await p.finish(3);
  const codes = (await Promise.all(answers)).map((r) => r?.code);
  assert.deepEqual(codes, [0, 0, 0, 0]);
  s.close();
});

test('when the total is full, connections with work take turns: a lone request overtakes a flood', async () => {
  // Room for two requests of 100 bytes in total.
  const s = new RequestScheduler(options({ inFlightPerConnectionMax: 100, inFlightBytesMax: 200 }));
  const flood = new TestConnection(1);
  const polite = new TestConnection(2);
  const p = heldProcessor();
  for (let i = 0; i < 20; i++) void s.submit(p.processor, sendOf(`f${i}`), flood);
  const politeAnswer = s.submit(p.processor, sendOf('p'), polite);
  assert.equal(p.started.length, 2);
  await p.finish(1);
  await p.finish(1);
  // Free slots go round the connections with work: the flood's turn (it queued first), then the polite
  // connection's, not after the 18 flood requests queued before it.
  assert.deepEqual(
    p.started.map((x) => x.req.extFields?.['tag']),
    ['f0', 'f1', 'f2', 'p'],
  );
  await p.finish(20);
  assert.equal((await politeAnswer)?.code, ResponseCode.SUCCESS);
  s.close();
});

test('a queued request that waited too long is shed only on a connection over its share', async () => {
  let now = 0;
  const shed: string[] = [];
  const s = new RequestScheduler(
    options({
      inFlightPerConnectionMax: 2,
      inFlightBytesMax: 100,
      queueWaitMsMax: 200,
      nowMs: () => now,
      onShed: (remark) => shed.push(remark),
    }),
  );
  const flood = new TestConnection(1);
  const polite = new TestConnection(2);
  const p = heldProcessor();
  const floodAnswers = Array.from({ length: 6 }, (_, i) => s.submit(p.processor, sendOf(`f${i}`), flood));
  const politeAnswer = s.submit(p.processor, sendOf('p'), polite);
  assert.equal(p.started.length, 1, 'the byte total admits one request');
  now = 250;
  s.sweep();
  // The flood had 6 outstanding against a share of 2: its oldest waiting requests are shed until it is back
  // within its share; the polite one (1 outstanding) waits on.
  assert.equal(s.stats().shedTimeout, 4);
  assert.equal(s.stats().queued, 2);
  for (const a of floodAnswers.slice(1, 5)) {
    const r = await a;
    assert.equal(r?.code, ResponseCode.SYSTEM_BUSY);
    assert.match(
      r?.remark ?? '',
      /^\[TIMEOUT_CLEAN_QUEUE\]broker busy, start flow control for a while, period in queue: 250ms, size of queue: \d+$/,
    );
  }
  assert.equal(shed.length, 4);
  await p.finish(3);
  assert.equal((await politeAnswer)?.code, ResponseCode.SUCCESS);
  assert.deepEqual(
    (await Promise.all([floodAnswers[0], floodAnswers[5]])).map((r) => r?.code),
    [0, 0],
  );
  s.close();
});

test('full queues refuse a connection over its share at once, never one within it', async () => {
  const s = new RequestScheduler(options({ inFlightPerConnectionMax: 1, inFlightBytesMax: 100, queuedRequestsMax: 3 }));
  const flood = new TestConnection(1);
  const polite = new TestConnection(2);
  const p = heldProcessor();
  const floodAnswers = Array.from({ length: 6 }, (_, i) => s.submit(p.processor, sendOf(`f${i}`), flood));
  const politeAnswer = s.submit(p.processor, sendOf('p'), polite);
  // f0 runs, f1..f3 queue, f4 and f5 are refused; the polite request queues although the queues are full.
  const refused = await Promise.all(floodAnswers.slice(4));
  for (const r of refused) {
    assert.equal(r?.code, ResponseCode.SYSTEM_BUSY);
    assert.match(r?.remark ?? '', /^\[OVERLOAD\]system busy, start flow control for a while/);
  }
  assert.equal(s.stats().shedOverload, 2);
  assert.equal(s.stats().queued, 4);
  await p.finish(1);
  assert.equal(p.started[1]?.conn, polite, 'the polite request is served next');
  await p.finish(5);
  assert.equal((await politeAnswer)?.code, ResponseCode.SUCCESS);
  assert.deepEqual(
    (await Promise.all(floodAnswers.slice(0, 4))).map((r) => r?.code),
    [0, 0, 0, 0],
  );
  s.close();
});

test('a closed connection’s queued requests never run; its turn passes to the others', async () => {
  const s = new RequestScheduler(options({ inFlightPerConnectionMax: 10, inFlightBytesMax: 100 }));
  const gone = new TestConnection(1);
  const other = new TestConnection(2);
  const p = heldProcessor();
  const goneAnswers = Array.from({ length: 5 }, (_, i) => s.submit(p.processor, sendOf(`g${i}`), gone));
  const otherAnswer = s.submit(p.processor, sendOf('o'), other);
  gone.close();
  assert.deepEqual(await Promise.all(goneAnswers.slice(1)), [undefined, undefined, undefined, undefined]);
  assert.equal(s.stats().queued, 1);
  await p.finish(1);
  assert.equal(p.started.length, 2);
  assert.equal(p.started[1]?.conn, other);
  await p.finish(2);
  assert.equal((await otherAnswer)?.code, ResponseCode.SUCCESS);
  assert.equal(s.stats().inFlight, 0);
  s.close();
});

test('a throwing processor frees its slot and the next request runs', async () => {
  const s = new RequestScheduler(options({ inFlightPerConnectionMax: 1 }));
  const conn = new TestConnection(1);
  let calls = 0;
  const processor: Processor = async (req) => {
    calls++;
    if (calls === 1) throw new Error('boom');
    return createResponse(req, ResponseCode.SUCCESS);
  };
  const first = s.submit(processor, sendOf('a'), conn);
  const second = s.submit(processor, sendOf('b'), conn);
  await assert.rejects(Promise.resolve(first), /boom/);
  assert.equal((await second)?.code, ResponseCode.SUCCESS);
  assert.equal(s.stats().inFlight, 0);
  s.close();
});

test('a connection whose queue is full is not read until half of it is served', async () => {
  const s = new RequestScheduler(options({ inFlightPerConnectionMax: 1, queuedPerConnectionPause: 4 }));
  const conn = new TestConnection(1);
  const p = heldProcessor();
  const answers = Array.from({ length: 4 }, (_, i) => s.submit(p.processor, sendOf(`a${i}`), conn));
  assert.equal(conn.reading, true, '3 queued: still read');
  answers.push(s.submit(p.processor, sendOf('a4'), conn));
  assert.equal(conn.reading, false, '4 queued: paused');
  await p.finish(1);
  assert.equal(conn.reading, false, '3 queued: still paused');
  await p.finish(1);
  assert.equal(conn.reading, true, '2 queued: read again');
  await p.finish(3);
  assert.deepEqual(
    (await Promise.all(answers)).map((r) => r?.code),
    [0, 0, 0, 0, 0],
  );
  s.close();
});

test('the caller sees an answer with the request’s slot passed on (the queued next one running) and a failure as such', async () => {
  const s = new RequestScheduler(options({ inFlightPerConnectionMax: 1 }));
  const conn = new TestConnection(1);
  const p = heldProcessor();
  let failNext = false;
  const processor: Processor = (req, c) => {
    if (failNext) return Promise.reject(new Error('refused'));
    return p.processor(req, c);
  };
  const first = s.submit(processor, sendOf('a'), conn) as Promise<RemotingCommand | undefined>;
  const second = s.submit(processor, sendOf('b'), conn) as Promise<RemotingCommand | undefined>;
  const seen: string[] = [];
  const firstSeen = first.then((resp) => {
    seen.push(
      `answer ${resp?.code}: in flight ${s.stats().inFlight}, queued ${s.stats().queued}, started ${p.started.length}`,
    );
  });
  failNext = true;
  p.started[0]?.done();
  await firstSeen;
  // The first's slot went to the queued second request before the first's caller ran.
  assert.deepEqual(seen, [`answer ${ResponseCode.SUCCESS}: in flight 1, queued 0, started 1`]);
  await assert.rejects(second, /refused/);
  assert.equal(s.stats().inFlight, 0);
  s.close();
});
