import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Broker } from '../../src/broker/broker.js';
import { encodeProperties } from '../../src/common/properties.js';
import { decodeRecords } from '../../src/common/record.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import type { FileMessageStore } from '../../src/store/file-store.js';
import { createMessageStore, PutStatus } from '../../src/store/index.js';
import type { MessageInput } from '../../src/store/types.js';

test('with the file store, a broker restart loses nothing acked and long polling wakes on arrival', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-broker-fs-'));
  const conf = { listenPort: 0, listenHost: '127.0.0.1', storePathRootDir: dir, longPollingSweepMs: 50 };
  const storeConf = { mappedFileSizeCommitLog: 1024 * 1024, mappedFileSizeConsumeQueue: 20 * 1000 };
  let broker = new Broker(conf, storeConf);
  let client = new RemotingClient();
  try {
    await broker.start();
    let addr = `127.0.0.1:${broker.port}`;
    const invoke = (code: number, f: Record<string, string | number | boolean | bigint>, body?: Buffer) =>
      client.invoke(addr, createRequest(code, f, body), 10_000);
    assert.equal(
      (await invoke(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: 'FS', readQueueNums: 1, writeQueueNums: 1, perm: 6 }))
        .code,
      0,
    );
    const pullFields = {
      consumerGroup: 'g',
      topic: 'FS',
      queueId: 0,
      maxMsgNums: 1000,
      commitOffset: 0,
      subscription: '*',
    };
    const held = invoke(RequestCode.PULL_MESSAGE, {
      ...pullFields,
      queueOffset: 0,
      sysFlag: 2 | 4,
      suspendTimeoutMillis: 8000,
    });
    const sent: string[] = [];
    for (let i = 0; i < 50; i++) {
      const body = `file-${i}`;
      const r = await invoke(
        RequestCode.SEND_MESSAGE_V2,
        {
          a: 'pg',
          b: 'FS',
          c: 'TBW102',
          d: 4,
          e: 0,
          f: 0,
          g: Date.now(),
          h: 0,
          i: encodeProperties({ TAGS: 'T' }),
          j: 0,
        },
        Buffer.from(body),
      );
      assert.equal(r.code, 0, r.remark);
      sent.push(body);
    }
    const first = await held;
    assert.equal(first.code, 0, first.remark);
    assert.ok(decodeRecords(first.body ?? Buffer.alloc(0)).length >= 1);

    await client.close();
    await broker.close();
    broker = new Broker(conf, storeConf);
    client = new RemotingClient();
    await broker.start();
    addr = `127.0.0.1:${broker.port}`;
    const got: string[] = [];
    let offset = 0n;
    while (got.length < sent.length) {
      const r = await invoke(RequestCode.PULL_MESSAGE, {
        ...pullFields,
        queueOffset: offset,
        sysFlag: 4,
        suspendTimeoutMillis: 0,
      });
      assert.equal(r.code, 0, r.remark);
      got.push(...decodeRecords(r.body ?? Buffer.alloc(0)).map((m) => m.body.toString()));
      offset = BigInt(r.extFields?.['nextBeginOffset'] ?? '0');
    }
    assert.deepEqual(got, sent);
  } finally {
    await client.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('cold pulls over the wire: read blocks are reused once responses are written, and every byte is right', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsrocket-broker-cold-'));
  // 64 KiB segments make 64 KiB read blocks, 32 of them kept: 3 MiB of log forces blocks to be dropped and reused.
  const store = createMessageStore({
    storePathRootDir: dir,
    mappedFileSizeCommitLog: 64 * 1024,
    mappedFileSizeConsumeQueue: 20 * 4000,
  }) as FileMessageStore;
  const broker = new Broker({ listenPort: 0, listenHost: '127.0.0.1', storePathRootDir: dir }, {}, { store });
  const client = new RemotingClient();
  try {
    await broker.start();
    const addr = `127.0.0.1:${broker.port}`;
    const invoke = (code: number, f: Record<string, string | number | boolean | bigint>) =>
      client.invoke(addr, createRequest(code, f), 10_000);
    assert.equal(
      (
        await invoke(RequestCode.UPDATE_AND_CREATE_TOPIC, {
          topic: 'COLD',
          readQueueNums: 2,
          writeQueueNums: 2,
          perm: 6,
        })
      ).code,
      0,
    );
    const sent: string[][] = [[], []];
    for (let round = 0; round < 120; round++) {
      for (let q = 0; q < 2; q++) {
        const batch = Array.from({ length: 20 }, (_, k) => {
          const body = `q${q}-r${round}-k${k}-${String.fromCharCode(97 + ((round + k) % 26)).repeat(400 + k * 13)}`;
          (sent[q] as string[]).push(body);
          return storeMsg('COLD', q, body);
        });
        assert.equal((await store.putMessages(batch)).status, PutStatus.PUT_OK);
      }
    }
    store.commitLog.isHot = () => false; // every read takes the cold path through the shared blocks
    const got = await Promise.all(
      [0, 1].map(async (queueId) => {
        const bodies: string[] = [];
        let offset = 0n;
        for (;;) {
          const r = await invoke(RequestCode.PULL_MESSAGE, {
            consumerGroup: 'g',
            topic: 'COLD',
            queueId,
            queueOffset: offset,
            maxMsgNums: 32,
            sysFlag: 0,
            commitOffset: 0,
            suspendTimeoutMillis: 0,
            subscription: '*',
          });
          if (r.code !== 0) return bodies;
          bodies.push(...decodeRecords(r.body ?? Buffer.alloc(0)).map((m) => m.body.toString()));
          offset = BigInt(r.extFields?.['nextBeginOffset'] ?? '0');
        }
      }),
    );
    assert.deepEqual(got, sent);
    const stats = store.commitLog.blocks?.stats;
    assert.ok(stats !== undefined && stats.reused > 0, `block buffers reused: ${JSON.stringify(stats)}`);
  } finally {
    await client.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

function storeMsg(topic: string, queueId: number, body: string): MessageInput {
  return {
    topic,
    queueId,
    flag: 0,
    body: Buffer.from(body),
    properties: encodeProperties({ TAGS: 'T' }),
    sysFlag: 0,
    bornTimestamp: BigInt(Date.now()),
    bornHost: '127.0.0.1:5555',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    tagsCode: 0n,
    keys: undefined,
    uniqKey: undefined,
  };
}
