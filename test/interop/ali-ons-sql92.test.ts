/**
 * SQL92 with the real `ali-ons` consumer (RocketMQ 4.x remoting): it subscribes with `{ expressionType: 'SQL92' }`
 * and sends the expression in every pull; against `tsrocket start` it receives exactly the messages our Producer
 * sent whose properties match, and nothing else while it lingers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Producer } from '../../src/client/producer.js';
import { cli, type RunningSystem, startSystem } from './system.js';

const run = promisify(execFile);
const driver = fileURLToPath(new URL('./ali-ons-driver.js', import.meta.url));
const topic = 'OnsSql';
let system: RunningSystem;

before(async () => {
  system = await startSystem();
  const { stdout } = await run(process.execPath, [
    cli,
    'admin',
    'updateTopic',
    '-n',
    system.nameSrv,
    '-c',
    'DefaultCluster',
    '-t',
    topic,
    '-r',
    '2',
    '-w',
    '2',
  ]);
  assert.match(stdout, /success/);
});
after(() => system?.stop());

test('ali-ons consumer with a SQL92 subscription receives exactly the matching messages', async () => {
  const producer = new Producer({ nameServer: system.nameSrv, group: 'ons_sql_producer', clientIp: '127.0.0.1' });
  await producer.start();
  const expected = new Set<string>();
  try {
    for (let i = 0; i < 200; i++) {
      const vip = i % 25 === 0;
      const r = await producer.send({
        topic,
        body: `ons sql ${i}`,
        tags: vip ? 'vip' : 'plain',
        properties: { a: String(i), ...(i % 2 === 0 ? { even: 'yes' } : {}) },
      });
      if ((i >= 150 && i % 2 === 0) || vip) expected.add(r.msgId);
    }
  } finally {
    await producer.shutdown();
  }
  const { stdout } = await run(
    process.execPath,
    [
      driver,
      'consume',
      system.nameSrv,
      topic,
      'GID_ons_sql',
      "SQL92:(a >= 150 AND even IS NOT NULL) OR TAGS = 'vip'",
      String(expected.size),
      '40000',
      '1000',
    ],
    { timeout: 60_000 },
  );
  const received = (JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { received: Array<{ uniqKey?: string }> })
    .received;
  const got = received.map((m) => m.uniqKey);
  assert.equal(got.length, expected.size, 'each matching message once, nothing else');
  assert.deepEqual(new Set(got), expected);
});
