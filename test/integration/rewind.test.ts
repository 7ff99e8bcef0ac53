/**
 * Rewind and skip over a real `tsrocket start`: a group reset to a time re-consumes exactly from the first message
 * stored at or after it — idle (reset by `tsrocket admin resetOffsetByTime`, a real process) and while a producer
 * and the consumer run (Admin.resetOffsetByTime) — and `skipAccumulatedMessage` makes a running consumer jump its
 * backlog to the end. Messages carry their sequence number as body; per queue they are consumed in order.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '../../src/client/admin/admin.js';
import { ConsumeFromWhere } from '../../src/client/heartbeat.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { cliPath, createTopic, type Server, startServer, stopAll, tempDir, waitUntil } from './procs.js';

const waitMs = 20_000;
let server: Server;
let producer: Producer;
let admin: Admin;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await tempDir('rewind');
  cleanup = t.cleanup;
  server = await startServer(join(t.dir, 'data'));
  producer = new Producer({ nameServer: server.nameServer, group: 'rewind_producer' });
  await producer.start();
  admin = new Admin({ nameServer: server.nameServer, timeoutMs: 5000 });
});
after(async () => {
  await producer.shutdown();
  await admin.close();
  await stopAll();
  await cleanup();
});

function runAdminCli(...args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, 'admin', ...args, '-n', server.nameServer], (err, stdout) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, out: stdout });
    });
  });
}

async function sendSeq(topic: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await producer.send({ topic, body: String(i) });
}

/** A consumer recording each delivery's sequence number. */
function consumerOf(group: string, topic: string, seen: number[], handler?: () => Promise<void>): PushConsumer {
  return new PushConsumer({
    nameServer: server.nameServer,
    group,
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    persistOffsetIntervalMs: 200,
    handler: async (m) => {
      seen.push(Number(m.body.toString()));
      await handler?.();
    },
  }).subscribe(topic);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

test('idle group reset by the admin CLI re-consumes exactly from the first message at or after the time', async () => {
  const topic = 'RewindIdle';
  const group = 'rewind_idle';
  await createTopic(server.nameServer, server.brokerAddr, topic, 4);
  const seen: number[] = [];
  const consumer = consumerOf(group, topic, seen);
  await consumer.start();
  try {
    await sendSeq(topic, 0, 40);
    await sleep(10);
    const t = Date.now();
    await sleep(10);
    await sendSeq(topic, 40, 80);
    await waitUntil(() => new Set(seen).size === 80, 'all 80 consumed', waitMs);
    const before = seen.length;

    const r = await runAdminCli('resetOffsetByTime', '-g', group, '-t', topic, '-s', String(t));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /#brokerName\s+#queueId\s+#offset/);

    await waitUntil(() => seen.length - before >= 40, 'the 40 messages after the time again', waitMs);
    const again = seen.slice(before);
    assert.deepEqual(
      [...again].sort((a, b) => a - b),
      range(40, 80),
    );
  } finally {
    await consumer.shutdown();
  }
});

test('reset while the producer and the consumer run: from the boundary on, everything again, nothing before', async () => {
  const topic = 'RewindLive';
  const group = 'rewind_live';
  await createTopic(server.nameServer, server.brokerAddr, topic, 4);
  const seen: number[] = [];
  const consumer = consumerOf(group, topic, seen);
  await consumer.start();
  try {
    await sendSeq(topic, 0, 60);
    await sleep(10);
    const t = Date.now();
    await sleep(10);
    let next = 60;
    let producing = true;
    const background = (async () => {
      while (producing) {
        await sendSeq(topic, next, next + 5);
        next += 5;
        await sleep(5);
      }
    })();
    await waitUntil(() => seen.filter((s) => s >= 60).length >= 100, 'consumption past the boundary', waitMs);
    const before = seen.length;
    const offsets = await admin.resetOffsetByTime(group, topic, t);
    assert.equal(offsets.length, 4);
    assert.equal(
      offsets.reduce((n, o) => n + Number(o.offset), 0),
      60,
      'the boundary is message 60 of 4 queues',
    );
    await waitUntil(() => seen.filter((s) => s >= 200).length >= 20, 'consumption after the reset', waitMs);
    producing = false;
    await background;
    const end = next;
    await waitUntil(() => new Set(seen.slice(before)).size >= end - 60, 'everything from the boundary again', waitMs);
    const after = seen.slice(before);
    assert.ok(Math.min(...after) >= 60, `nothing before the boundary again (saw ${Math.min(...after)})`);
    assert.deepEqual(
      [...new Set(after)].sort((a, b) => a - b),
      range(60, end),
    );
  } finally {
    await consumer.shutdown();
  }
});

test('skipAccumulatedMessage: a running consumer jumps its backlog and reads on from the end', async () => {
  const topic = 'SkipBacklog';
  const group = 'skip_backlog';
  await createTopic(server.nameServer, server.brokerAddr, topic, 2);
  const seen: number[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  // The handler blocks, so a backlog builds up behind it.
  const consumer = new PushConsumer({
    nameServer: server.nameServer,
    group,
    consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    consumeConcurrency: 1,
    persistOffsetIntervalMs: 200,
    handler: async (m) => {
      const seq = Number(m.body.toString());
      seen.push(seq);
      if (seq < 1000) await gate;
    },
  }).subscribe(topic);
  await consumer.start();
  try {
    await sendSeq(topic, 0, 50);
    await waitUntil(() => seen.length >= 1, 'the first message in the handler', waitMs);
    const r = await runAdminCli('skipAccumulatedMessage', '-g', group, '-t', topic, '--json');
    assert.equal(r.code, 0, r.out);
    const printed = JSON.parse(r.out) as { offsets: Array<{ offset: number }> };
    assert.equal(
      printed.offsets.reduce((n, o) => n + o.offset, 0),
      50,
    );
    const blocked = seen.length;
    release();
    await sendSeq(topic, 1000, 1010);
    await waitUntil(() => seen.filter((s) => s >= 1000).length >= 10, 'the messages after the skip', waitMs);
    const after = seen.slice(blocked);
    assert.deepEqual(
      after.filter((s) => s < 1000),
      [],
      'nothing of the backlog is consumed after the skip',
    );
    assert.deepEqual(
      [...after].sort((a, b) => a - b),
      range(1000, 1010),
    );
  } finally {
    await consumer.shutdown();
  }
});
