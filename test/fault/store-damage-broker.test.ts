/**
 * Store damage seen from the wire: a record whose body was damaged on disk while the broker was stopped is not
 * pulled (the pull moves past it), and GET_BROKER_RUNTIME_INFO (what `tsrocket admin brokerStatus` prints)
 * reports what was refused and what the start found.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { Broker } from '../../src/broker/broker.js';
import { decodeOffsetMsgId, decodeRecords, RecordPos } from '../../src/common/record.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import type { StoreConfig } from '../../src/store/config.js';
import { createMessageStore } from '../../src/store/index.js';
import { createTopic, type Harness, pull, sendV2 } from '../broker/helpers.js';
import { smallStore, tempDir } from '../store/helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});

/** A broker on a file store over `dir` (no NameServer), with the test helpers' Harness shape. */
async function brokerOn(dir: string, store: Partial<StoreConfig> = {}): Promise<Harness> {
  const s = createMessageStore({ storePathRootDir: dir, ...smallStore, ...store });
  const broker = new Broker(
    { listenPort: 0, listenHost: '127.0.0.1', namesrvAddr: '', storePathRootDir: dir },
    {},
    { store: s },
  );
  await broker.start();
  const h: Harness = {
    broker,
    store: s,
    client: new RemotingClient(),
    addr: `127.0.0.1:${broker.port}`,
    dir,
    restart: () => Promise.reject(new Error('not used')),
    close: async () => {
      await h.client.close();
      await broker.close();
      await s.shutdown();
    },
  };
  return h;
}

async function runtimeInfo(h: Harness): Promise<Record<string, string>> {
  const r = await h.client.invoke(h.addr, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO, {}));
  return (JSON.parse(r.body?.toString() ?? '{}') as { table: Record<string, string> }).table;
}

/** Pulls queue 0 from offset 0 to its end; returns the bodies and the response codes seen. */
async function pullAll(h: Harness, topic: string): Promise<{ bodies: string[]; codes: number[] }> {
  const bodies: string[] = [];
  const codes: number[] = [];
  let offset = 0;
  for (let guard = 0; guard < 100; guard++) {
    const r = await pull(h, topic, 0, offset, { maxMsgNums: 4, suspendTimeoutMillis: 0, sysFlag: 0 });
    codes.push(r.code);
    if (r.code === ResponseCode.SUCCESS && r.body !== undefined) {
      for (const m of decodeRecords(r.body)) bodies.push(m.body.toString());
    } else if (r.code !== ResponseCode.PULL_RETRY_IMMEDIATELY) return { bodies, codes };
    offset = Number(r.extFields?.['nextBeginOffset']);
  }
  throw new Error('the pull never reached the end');
}

test('a body damaged on disk while stopped: never pulled, counted in brokerStatus, the records after it pulled', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  let h = await brokerOn(dir);
  await createTopic(h, 'Dmg', 1);
  const sent: bigint[] = [];
  for (let i = 0; i < 30; i++) {
    const r = await sendV2(h, 'Dmg', `d${i}`);
    assert.equal(r.code, ResponseCode.SUCCESS);
    sent.push(decodeOffsetMsgId(r.extFields?.['msgId'] ?? '').commitLogOffset);
  }
  await h.close();

  const phy = Number(sent[10]);
  const seg = path.join(dir, 'commitlog', '0'.repeat(20));
  const fh = await fs.open(seg, 'r+');
  await fh.write(Buffer.from('#'), 0, 1, phy + RecordPos.body);
  await fh.close();
  const want = Array.from({ length: 30 }, (_, i) => `d${i}`).filter((b) => b !== 'd10');

  // No tail check at start: the pull path itself must refuse the record.
  h = await brokerOn(dir, { recoverTailCheckBytes: 0 });
  try {
    const got = await pullAll(h, 'Dmg');
    assert.deepEqual(got.bodies, want);
    const info = await runtimeInfo(h);
    assert.ok(Number(info['storeRecordsSkippedCrc']) >= 1, JSON.stringify(info));
    assert.equal(info['storeDamageFound'], '0');
  } finally {
    await h.close();
  }

  // With the default tail check the start finds it and says so.
  h = await brokerOn(dir);
  try {
    const info2 = await runtimeInfo(h);
    assert.ok(Number(info2['storeDamageFound']) >= 1, JSON.stringify(info2));
    assert.match(info2['storeLastRecovery'] ?? '', /clean, .*1 damaged ranges skipped/);
    assert.deepEqual((await pullAll(h, 'Dmg')).bodies, want);
  } finally {
    await h.close();
  }
});
