/** `tsrocket admin updateTopic -d <ms>` turns producer de-duplication on (0 off); bad windows are refused. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runAdmin } from '../../src/cli/admin/index.js';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer } from '../../src/client/producer.js';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { Prop } from '../../src/common/properties.js';
import { startCluster, type TestCluster } from '../client/cluster.js';

let cluster: TestCluster;
before(async () => {
  cluster = await startCluster(1);
});
after(async () => {
  await cluster.close();
});

async function admin(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin([...argv, '-n', cluster.nameServer], {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function stored(a: Admin, topic: string): Promise<number> {
  return (await a.topicStatus(topic)).reduce((n, q) => n + q.maxOffset, 0);
}

test('updateTopic -d 600000 de-duplicates resends; -d 0 turns it off', async () => {
  const addr = (cluster.brokers[0] as { brokerAddr: string }).brokerAddr;
  const on = await admin('updateTopic', '-b', addr, '-t', 'DedupCli', '-r', '1', '-w', '1', '-d', '600000');
  assert.equal(on.code, 0, on.err);
  const a = new Admin({ nameServer: cluster.nameServer });
  const producer = new Producer({ nameServer: cluster.nameServer, group: 'dedup_cli_producer' });
  try {
    for (let i = 0; i < 200; i++) {
      if ((await a.topicRoute('DedupCli').catch(() => undefined)) !== undefined) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const attrs = async () => (await a.topicConfig('DedupCli'))[0]?.config.attributes['dedup.window.ms'];
    assert.equal(await attrs(), '600000');
    await producer.start();
    const send = () => producer.send({ topic: 'DedupCli', body: 'x', properties: { [Prop.uniqKey]: 'CLI-1' } });
    const r1 = await send();
    const r2 = await send();
    assert.equal(r2.offsetMsgId, r1.offsetMsgId);
    assert.equal(await stored(a, 'DedupCli'), 1);

    const off = await admin('updateTopic', '-b', addr, '-t', 'DedupCli', '-r', '1', '-w', '1', '-d', '0');
    assert.equal(off.code, 0, off.err);
    assert.equal(await attrs(), undefined);
    await send();
    assert.equal(await stored(a, 'DedupCli'), 2);
  } finally {
    await producer.shutdown();
    await a.close();
  }
});

test('a window outside 1000..86400000 is refused by the CLI and the Admin API before any request', async () => {
  const addr = (cluster.brokers[0] as { brokerAddr: string }).brokerAddr;
  const bad = await admin('updateTopic', '-b', addr, '-t', 'DedupBad', '-d', '500');
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /--dedupWindowMs must be 0 \(off\) or 1000\.\.86400000, got 500/);
  const a = new Admin({ nameServer: cluster.nameServer });
  try {
    await assert.rejects(
      a.createOrUpdateTopic({ brokerAddr: addr }, { topicName: 'DedupBad', dedupWindowMs: 1.5e3 + 0.5 }),
      InvalidArgumentError,
    );
  } finally {
    await a.close();
  }
});
