/**
 * `tsrocket start --brokers 2`: two broker processes registered as one cluster behind the embedded NameServer.
 * A topic created for the cluster (`updateTopic -c`) lives on both; a producer spreads over both brokers' queues
 * and a consumer group gets every message once. A SIGKILLed broker process is reported, its route dropped and
 * the process restarted; a topic auto-created on one broker is spread to the other; SIGTERM stops both brokers
 * and the NameServer, leaving no process behind. A broker that cannot listen stops the whole start (exit 1); a
 * SIGKILLed start leaves no broker process behind; a Ctrl+C to the process group is one clean shutdown.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { after, test } from 'node:test';
import { Admin } from '../../src/client/admin/admin.js';
import { setLogLevel } from '../../src/common/log.js';
import { ConsumeFromWhere, Producer, PushConsumer } from '../../src/index.js';
import { Proc, startArgs, stopAll, tempDir, waitUntil } from './procs.js';

setLogLevel('error');
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Broker processes of `parent` (children on Linux, from /proc). */
async function childPids(parent: number): Promise<number[]> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(`/proc/${parent}/task/${parent}/children`, 'utf8').catch(() => '');
  return text
    .trim()
    .split(/\s+/)
    .filter((s) => s.length > 0)
    .map(Number);
}

/** The brokers routing `topic`, once there are `want` of them (or what there are after 10 s). */
async function routedBrokers(admin: Admin, topic: string, want: number): Promise<string[]> {
  let routed: string[] = [];
  for (let i = 0; i < 200 && routed.length < want; i++) {
    const route = await admin.topicRoute(topic).catch(() => undefined);
    routed = (route?.queueDatas ?? []).map((q) => q.brokerName).sort();
    if (routed.length < want) await new Promise((r) => setTimeout(r, 50));
  }
  return routed;
}

test('tsrocket start --brokers 2: one cluster of two broker processes; every message once; kill and stop', async (t) => {
  const { dir, cleanup } = await tempDir('start-brokers');
  cleanups.push(cleanup);
  const proc = new Proc('tsrocket start --brokers 2', [...startArgs(dir), '--brokers', '2']);
  const ready = await proc.line(/tsrocket started .*namesrvAddr=([\d.:]+) brokerAddr=([\d.:,]+) brokers=2/, 30_000);
  const nameServer = ready[1] as string;
  const brokerAddrs = (ready[2] as string).split(',');
  assert.equal(brokerAddrs.length, 2);

  const admin = new Admin({ nameServer, timeoutMs: 5000 });
  const topic = 'TwoBrokers';
  const queues = 4;
  const count = 400;
  try {
    const cluster = await admin.clusterInfo();
    assert.deepEqual(Object.keys(cluster.brokerAddrTable).sort(), ['broker-a', 'broker-b']);
    assert.deepEqual([...(cluster.clusterAddrTable['DefaultCluster'] ?? [])].sort(), ['broker-a', 'broker-b']);

    await admin.createOrUpdateTopic(
      { cluster: 'DefaultCluster' },
      { topicName: topic, readQueueNums: queues, writeQueueNums: queues },
    );
    assert.deepEqual(await routedBrokers(admin, topic, 2), ['broker-a', 'broker-b'], 'the topic is on both brokers');

    // Round robin over both brokers: with latency avoidance on (the default), one slow send on a busy machine (over
    // 550 ms) kept broker-b out for 30 s, and it took 1 of 400 sends.
    const producer = new Producer({
      nameServer,
      group: 'PID_two_brokers',
      clientIp: '127.0.0.1',
      sendLatencyFaultEnable: false,
    });
    await producer.start();
    const sentTo = new Map<string, number>();
    const sent = new Set<string>();
    try {
      for (let i = 0; i < count; i++) {
        const r = await producer.send({ topic, body: `two ${i}` });
        sent.add(r.msgId);
        const b = r.messageQueue.brokerName;
        sentTo.set(b, (sentTo.get(b) ?? 0) + 1);
      }
    } finally {
      await producer.shutdown();
    }
    t.diagnostic(`sends per broker: ${JSON.stringify(Object.fromEntries(sentTo))}`);
    assert.ok((sentTo.get('broker-a') ?? 0) > count / 4, 'broker-a took a share of the sends');
    assert.ok((sentTo.get('broker-b') ?? 0) > count / 4, 'broker-b took a share of the sends');

    const got = new Map<string, number>();
    const gotFrom = new Set<string>();
    const consumer = new PushConsumer({
      nameServer,
      group: 'GID_two_brokers',
      clientIp: '127.0.0.1',
      consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    });
    consumer.subscribe(topic, '*').onMessage((m) => {
      got.set(m.msgId, (got.get(m.msgId) ?? 0) + 1);
      gotFrom.add(m.brokerName);
    });
    await consumer.start();
    try {
      await waitUntil(() => got.size >= count, `${count} messages consumed (got ${got.size})`, 30_000);
    } finally {
      await consumer.shutdown();
    }
    assert.deepEqual([...got.keys()].sort(), [...sent].sort(), 'every sent message consumed');
    assert.ok(
      [...got.values()].every((n) => n === 1),
      'each once',
    );
    assert.deepEqual([...gotFrom].sort(), ['broker-a', 'broker-b']);

    // A topic auto-created by a send lands on one broker and is spread to the other.
    const autoTopic = 'AutoCreatedOnOne';
    const autoProducer = new Producer({ nameServer, group: 'PID_two_brokers_auto', clientIp: '127.0.0.1' });
    await autoProducer.start();
    try {
      await autoProducer.send({ topic: autoTopic, body: 'first' });
    } finally {
      await autoProducer.shutdown();
    }
    assert.deepEqual(await routedBrokers(admin, autoTopic, 2), ['broker-a', 'broker-b'], 'spread to both brokers');

    // SIGKILL one broker process: reported, route dropped, restarted and registered again.
    const pid = proc.child.pid as number;
    const before = await childPids(pid);
    assert.equal(before.length, 2, 'two broker processes');
    const victim = before[0] as number;
    process.kill(victim, 'SIGKILL');
    const died = await proc.line(
      new RegExp(`broker process died brokerName=(broker-[ab]) pid=${victim} exit="signal SIGKILL"`),
    );
    const name = died[1] as string;
    await proc.line(new RegExp(`broker process restarted brokerName=${name}`), 30_000);
    const routedAgain = await admin.topicRoute(topic);
    assert.deepEqual(routedAgain.queueDatas.map((q) => q.brokerName).sort(), ['broker-a', 'broker-b']);
    const restarted = await childPids(pid);
    assert.equal(restarted.length, 2);

    // SIGTERM: both brokers and the NameServer stop, exit 0, no broker process left.
    proc.kill('SIGTERM');
    assert.equal(await proc.exited, 0);
    await waitUntil(() => restarted.every((p) => !alive(p)), 'broker processes gone', 10_000);
  } finally {
    await admin.close();
    await proc.stop();
  }
});

test('tsrocket start --brokers 2: a broker that cannot listen stops the start (exit 1, which and why)', async () => {
  const { dir, cleanup } = await tempDir('start-brokers-port');
  cleanups.push(cleanup);
  const port = await freePort();
  // broker-b's port (+10) is taken.
  const blocker = createServer();
  await new Promise<void>((resolve) => {
    blocker.once('error', () => resolve()); // taken already: just as good
    blocker.listen(port + 10, '127.0.0.1', resolve);
  });
  try {
    const proc = new Proc('tsrocket start --brokers 2', [...startArgs(dir, 0, port), '--brokers', '2']);
    assert.equal(await proc.exited, 1);
    assert.ok(
      proc.lines.some((l) => /failed .*broker process 1 \(pid \d+\) exited before it served/.test(l)),
      proc.tail(),
    );
    assert.ok(!proc.lines.some((l) => /tsrocket started/.test(l)), 'never ready');
  } finally {
    blocker.close();
  }
});

test('tsrocket start --brokers 2 SIGKILLed: its broker processes stop by themselves', async () => {
  const { dir, cleanup } = await tempDir('start-brokers-orphan');
  cleanups.push(cleanup);
  const proc = new Proc('tsrocket start --brokers 2', [...startArgs(dir), '--brokers', '2']);
  await proc.line(/tsrocket started/, 30_000);
  const children = await childPids(proc.child.pid as number);
  assert.equal(children.length, 2);
  proc.kill('SIGKILL');
  await proc.exited;
  await waitUntil(() => children.every((p) => !alive(p)), 'broker processes gone after their parent', 15_000);
});

test('tsrocket start --brokers 2: a broker that keeps dying (4 times within 60 s) stops the start with exit 1', async () => {
  const { dir, cleanup } = await tempDir('start-brokers-loop');
  cleanups.push(cleanup);
  const proc = new Proc('tsrocket start --brokers 2', [...startArgs(dir), '--brokers', '2']);
  await proc.line(/tsrocket started/, 30_000);
  const nth = async (re: RegExp, n: number): Promise<RegExpExecArray> => {
    const all = () => proc.lines.map((l) => re.exec(l)).filter((m): m is RegExpExecArray => m !== null);
    await proc.until(() => all().length >= n, `${n} × ${re}`, 30_000);
    return all()[n - 1] as RegExpExecArray;
  };
  let victim = Math.min(...(await childPids(proc.child.pid as number)));
  process.kill(victim, 'SIGKILL');
  const name = (await nth(/broker process died brokerName=(broker-[ab])/, 1))[1] as string;
  for (let restart = 1; restart <= 3; restart++) {
    victim = Number((await nth(new RegExp(`broker process restarted brokerName=${name} pid=(\\d+)`), restart))[1]);
    process.kill(victim, 'SIGKILL');
  }
  assert.equal(await proc.exited, 1);
  assert.ok(
    proc.lines.some((l) => new RegExp(`shutting down why="${name} died 4 times within 60 s"`).test(l)),
    proc.tail(),
  );
});

test('tsrocket start --brokers 2: a Ctrl+C to the process group stops everything once, cleanly (exit 0)', async () => {
  const { dir, cleanup } = await tempDir('start-brokers-ctrlc');
  cleanups.push(cleanup);
  // Its own process group, as a terminal's foreground job: SIGINT to the group reaches the brokers too.
  const child = spawn(process.execPath, [...startArgs(dir), '--brokers', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, TSROCKET_LOG_LEVEL: 'info' },
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitUntil(() => out.includes('tsrocket started'), 'ready line', 30_000);
    process.kill(-(child.pid as number), 'SIGINT');
    assert.equal(await exited, 0, out.slice(-3000));
    assert.equal(out.match(/broker closed/g)?.length, 2, 'both brokers closed');
    assert.ok(!out.includes('second signal'), 'one shutdown');
    assert.ok(out.includes('NameServer closed'));
  } finally {
    if (child.exitCode === null) process.kill(-(child.pid as number), 'SIGKILL');
  }
});
