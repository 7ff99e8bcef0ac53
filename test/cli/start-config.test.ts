/**
 * The broker configuration of `tsrocket start --brokers N` (src/cli/start-config.ts): the flag's range, and each
 * member's name, ports and store directory from the same broker.conf.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { brokersFlag, loadStartBrokerConfig, makeMember, memberName } from '../../src/cli/start-config.js';
import { InvalidArgumentError } from '../../src/common/errors.js';

test('--brokers: 1 when absent, 1..16 accepted, anything else refused as a usage error', () => {
  assert.equal(brokersFlag(undefined), 1);
  assert.equal(brokersFlag('2'), 2);
  assert.equal(brokersFlag('16'), 16);
  for (const bad of ['0', '17', '-1', '1.5', 'two', '', ' ']) {
    assert.throws(() => brokersFlag(bad), InvalidArgumentError, bad);
  }
  assert.deepEqual([0, 1, 15].map(memberName), ['broker-a', 'broker-b', 'broker-p']);
});

test('members: broker-x, listenPort + 10 × i, gRPC port + i, store under <data>/broker-x; port 0 stays 0', async () => {
  const dataDir = '/tmp/tsrocket-start-config';
  const input = { dataDir, host: '127.0.0.1' };
  const b = await loadStartBrokerConfig(input);
  makeMember(b, input, 1);
  assert.equal(b.broker.brokerName, 'broker-b');
  assert.equal(b.broker.brokerClusterName, 'DefaultCluster');
  assert.equal(b.broker.listenPort, 10921);
  assert.equal(b.broker.grpcServerPort, 8082);
  assert.equal(b.broker.storePathRootDir, join(dataDir, 'broker-b'));
  const zero = { dataDir, brokerPort: 0 };
  const c = await loadStartBrokerConfig(zero);
  makeMember(c, zero, 2);
  assert.equal(c.broker.listenPort, 0);
  assert.equal(c.broker.grpcServerPort, 0);
});

test('members with broker.conf: its storePathRootDir is the parent of each store; a store file path is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-start-config-'));
  try {
    const conf = join(dir, 'broker.conf');
    await writeFile(conf, `storePathRootDir=${join(dir, 'stores')}\nlistenPort=20911\n`);
    const input = { dataDir: join(dir, 'data'), brokerConfigFile: conf };
    const a = await loadStartBrokerConfig(input);
    makeMember(a, input, 0);
    assert.equal(a.broker.listenPort, 20911);
    assert.equal(a.broker.storePathRootDir, join(dir, 'stores', 'broker-a'));
    assert.equal(a.store.storePathRootDir, join(dir, 'stores', 'broker-a'), 'the store follows');
    const given = { ...input, dataDirGiven: true };
    const b = await loadStartBrokerConfig(given);
    makeMember(b, given, 1);
    assert.equal(b.broker.storePathRootDir, join(dir, 'data', 'broker-b'), 'an explicit --data wins');

    await writeFile(conf, `storePathCommitLog=${join(dir, 'commitlog')}\n`);
    const shared = await loadStartBrokerConfig(input);
    assert.throws(() => makeMember(shared, input, 0), /storePathCommitLog of broker\.conf would be shared/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
