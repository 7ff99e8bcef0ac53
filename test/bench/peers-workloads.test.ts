import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runBatches, runPerMessage } from '../../bench/peers/modes.js';
import type { ConsumeMode, PeerSession, ProduceMode } from '../../bench/peers/peer.js';
import { Durability, ModeKind } from '../../bench/peers/results.js';
import { runCommon } from '../../bench/peers/workloads.js';

const stopMs = 600;

/** An in-memory system: streams are arrays; its consumer delivers at once and takes `stopMs` to stop. */
function memorySession(): { session: PeerSession; streams: Map<string, Buffer[]> } {
  const streams = new Map<string, Buffer[]>();
  const append = (name: string, bodies: readonly Buffer[]) => {
    const s = streams.get(name);
    if (s === undefined) throw new Error(`no stream ${name}`);
    s.push(...bodies);
  };
  const publish = async (name: string, body: Buffer) => append(name, [body]);
  const produceModes: ProduceMode[] = [
    {
      mode: 'one',
      kind: ModeKind.idiomatic,
      durability: Durability.pageCache,
      describe: 'one at a time',
      run: (name, count, body) => runPerMessage(count, 16, (b) => publish(name, b), body),
    },
    {
      mode: 'batch',
      kind: ModeKind.best,
      durability: Durability.fsyncPerBatch,
      describe: 'batches',
      run: (name, count, body) => runBatches(count, 10, 2, async (bs) => append(name, bs), body),
    },
    {
      mode: 'load-tool',
      kind: ModeKind.ceiling,
      durability: Durability.pageCache,
      describe: 'an external tool that is missing',
      run: async () => {
        throw new Error('tool exited 127');
      },
    },
  ];
  const consumer = (mode: string, kind: ModeKind): ConsumeMode => ({
    mode,
    kind,
    describe: mode,
    async consume(name, onMessage) {
      let running = true;
      let at = 0;
      // Delivers what the stream holds, also what is appended later (the e2e workload publishes while reading).
      const loop = (async () => {
        while (running) {
          const s = streams.get(name) ?? [];
          while (at < s.length) onMessage(s[at++] as Buffer);
          await sleep(1);
        }
      })();
      return {
        stop: async () => {
          await sleep(stopMs);
          running = false;
          await loop;
        },
      };
    },
  });
  const session: PeerSession = {
    prepare: async (name) => {
      streams.set(name, []);
    },
    publish,
    produceModes,
    consumeModes: [consumer('read', ModeKind.idiomatic), consumer('read-big', ModeKind.best)],
    close: async () => undefined,
  };
  return { session, streams };
}

test('every client mode produces and consumes its own backlog; a slow consumer stop is not counted', async () => {
  const { session, streams } = memorySession();
  const notes: string[] = [];
  const count = 500;
  const ms = await runCommon(
    'mem',
    session,
    [],
    { count, window: 16, e2eRate: 200, e2eSeconds: 1.5, e2eBodyBytes: 64 },
    (l) => notes.push(l),
  );
  for (const k of [0, 1]) assert.equal(streams.get(`bench_1k_${k}`)?.length, count);
  const rows = (w: string) => ms.filter((m) => m.workload === w).map((m) => `${m.mode}/${m.kind}/${m.durability}`);
  assert.deepEqual(rows('produce-1k'), ['one/idiomatic/page cache', 'batch/best/fsync per batch']);
  // A consume mode inherits the durability of the produce mode that wrote its backlog.
  assert.deepEqual(rows('consume-128'), ['read/idiomatic/page cache', 'read-big/best/fsync per batch']);
  assert.deepEqual(rows('e2e-p99'), ['one + read/idiomatic/page cache']);
  // The failing ceiling loses its own rows, noted, and nothing else.
  assert.equal(notes.filter((l) => l.includes('load-tool') && l.includes('tool exited 127')).length, 2);
  for (const m of ms) {
    assert.ok(m.serverCpuUsPerMsg === 0, `${m.workload} ${m.mode}: no server process, no server CPU`);
    assert.ok((m.clientCpuUsPerMsg ?? -1) > 0, `${m.workload} ${m.mode}: the generator's CPU is counted`);
  }
  // 500 messages drain in well under the consumer's stop time: the stop must stay outside the timing.
  for (const m of ms.filter((x) => x.workload.startsWith('consume-'))) {
    assert.ok(m.value > count / (stopMs / 1000), `${m.mode} ${m.workload}: ${m.value.toFixed(0)} msg/s`);
  }
});
