import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mergeConfig, namesrvConfigDefaults, parseProperties, readConfigFile } from '../../src/common/config.js';
import { InvalidArgumentError } from '../../src/common/errors.js';

test('parseProperties: comments, blank lines, trimming, ":" separator, later key wins', () => {
  const text = [
    '# broker.conf',
    '! also a comment',
    '',
    '  brokerClusterName = DefaultCluster  ',
    'brokerName=broker-a',
    'namesrvAddr=127.0.0.1:9876;127.0.0.2:9876',
    'listenPort: 10911',
    'emptyValue=',
    'brokerName=broker-b',
    '\r',
  ].join('\r\n');
  assert.deepEqual(parseProperties(text), {
    brokerClusterName: 'DefaultCluster',
    brokerName: 'broker-b',
    namesrvAddr: '127.0.0.1:9876;127.0.0.2:9876',
    listenPort: '10911',
    emptyValue: '',
  });
});

test('parseProperties: a line without a separator names its line number', () => {
  assert.throws(
    () => parseProperties('a=1\njunk line\n'),
    (err: Error) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /line 2/);
      return true;
    },
  );
});

test('mergeConfig: defaults < file < flags, typed, unknown keys kept', () => {
  const file = { listenPort: '9877', brokerChannelExpiredTime: '30000', enableAllTopicList: 'false', fooBar: 'kept' };
  const flags = { listenPort: 9999, kvConfigPath: undefined };
  const { config, unknown } = mergeConfig(namesrvConfigDefaults(), file, flags);
  assert.equal(config.listenPort, 9999);
  assert.equal(config.brokerChannelExpiredTime, 30000);
  assert.equal(config.enableAllTopicList, false);
  assert.equal(config.scanNotActiveBrokerInterval, 5000);
  assert.equal(config.kvConfigPath, '');
  assert.deepEqual(unknown, { fooBar: 'kept' });
  assert.throws(() => mergeConfig(namesrvConfigDefaults(), { listenPort: 'x' }), /listenPort/);
});

test('readConfigFile reads a real file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-config-'));
  try {
    const path = join(dir, 'namesrv.properties');
    await writeFile(path, '# hi\nlistenPort=9000\n');
    assert.deepEqual(await readConfigFile(path), { listenPort: '9000' });
    await assert.rejects(readConfigFile(join(dir, 'missing')), /ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
