/**
 * UPDATE_AND_CREATE_TOPIC, and a send that auto-created its topic, are answered once topics.json holds the topic: a
 * broker killed right after the answer (on a busy machine the coalesced write came seconds later) lost the topic, and
 * with it the route to the messages then stored in it. The write is held here, so the order is deterministic.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Broker } from '../../../src/broker/broker.js';
import { RemotingClient } from '../../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../../src/remoting/codes.js';
import { createRequest } from '../../../src/remoting/command.js';
import { NodeStorageIO } from '../../../src/store/io.js';
import { sendV2 } from '../helpers.js';

/** Holds the rename that puts a new topics.json in place until `release`. */
class HeldTopicsIO extends NodeStorageIO {
  held: Array<() => void> = [];
  holding = false;

  override async rename(from: string, to: string): Promise<void> {
    if (this.holding && path.basename(to) === 'topics.json') await new Promise<void>((r) => this.held.push(r));
    return super.rename(from, to);
  }

  release(): void {
    this.holding = false;
    for (const r of this.held.splice(0)) r();
  }
}

test('a created topic is answered only once topics.json holds it', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-topic-durable-'));
  const io = new HeldTopicsIO();
  const broker = new Broker(
    { listenPort: 0, listenHost: '127.0.0.1', namesrvAddr: '', storePathRootDir: dir },
    {},
    { metadataIO: io },
  );
  await broker.start();
  const client = new RemotingClient();
  const addr = `127.0.0.1:${broker.port}`;
  try {
    io.holding = true;
    let answered = false;
    const create = client
      .invoke(
        addr,
        createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, {
          topic: 'Durable',
          readQueueNums: 2,
          writeQueueNums: 2,
          perm: 6,
        }),
        30_000,
      )
      .finally(() => {
        answered = true;
      });
    for (const until = Date.now() + 10_000; io.held.length === 0 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(io.held.length, 1, 'the topics.json write reached its rename');
    // A request sent after the create is answered: the create would have been too, were it not waiting.
    const later = await client.invoke(addr, createRequest(RequestCode.GET_ALL_TOPIC_CONFIG, {}), 30_000);
    assert.equal(later.code, ResponseCode.SUCCESS);
    assert.equal(answered, false, 'answered while topics.json did not hold the topic yet');
    io.release();
    const r = await create;
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    const onDisk = JSON.parse(await readFile(path.join(dir, 'config', 'topics.json'), 'utf8')) as {
      topicConfigTable: Record<string, unknown>;
    };
    assert.ok(onDisk.topicConfigTable['Durable'] !== undefined, 'topics.json holds the topic at the answer');
  } finally {
    io.release();
    await client.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** Waits (bounded) until the held write reached its rename. */
async function untilHeld(io: HeldTopicsIO): Promise<void> {
  for (const until = Date.now() + 10_000; io.held.length === 0 && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(io.held.length, 1, 'the topics.json write reached its rename');
}

test('a send that auto-created its topic is answered only once topics.json holds it; so is the next send into it', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-topic-durable-'));
  const io = new HeldTopicsIO();
  const broker = new Broker(
    { listenPort: 0, listenHost: '127.0.0.1', namesrvAddr: '', storePathRootDir: dir, autoCreateTopicEnable: true },
    {},
    { metadataIO: io },
  );
  await broker.start();
  const client = new RemotingClient();
  const h = { client, addr: `127.0.0.1:${broker.port}` };
  try {
    io.holding = true;
    const answered: string[] = [];
    const first = sendV2(h, 'AutoDurable', 'one', {}, 0, 30_000).finally(() => answered.push('first'));
    await untilHeld(io);
    const second = sendV2(h, 'AutoDurable', 'two', {}, 0, 30_000).finally(() => answered.push('second'));
    // A request sent after both is answered: the sends would have been too, were they not waiting.
    const later = await client.invoke(h.addr, createRequest(RequestCode.GET_ALL_TOPIC_CONFIG, {}), 30_000);
    assert.equal(later.code, ResponseCode.SUCCESS);
    assert.deepEqual(answered, [], 'a send answered while topics.json did not hold its topic yet');
    io.release();
    const [r1, r2] = await Promise.all([first, second]);
    assert.equal(r1.code, ResponseCode.SUCCESS, r1.remark);
    assert.equal(r2.code, ResponseCode.SUCCESS, r2.remark);
    const onDisk = JSON.parse(await readFile(path.join(dir, 'config', 'topics.json'), 'utf8')) as {
      topicConfigTable: Record<string, unknown>;
    };
    assert.ok(onDisk.topicConfigTable['AutoDurable'] !== undefined, 'topics.json holds the topic at the answer');
    // Once written, a send into the topic does not wait for any write.
    io.holding = true;
    const third = await sendV2(h, 'AutoDurable', 'three', {}, 0, 30_000);
    assert.equal(third.code, ResponseCode.SUCCESS, third.remark);
  } finally {
    io.release();
    await client.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});
