import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ConfigError,
  type ConfigSchema,
  editDistance,
  nearestKey,
  parseProperties,
  readConfigFile,
  resolveConfig,
} from '../../src/common/config.js';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { namesrvConfigDefaults, namesrvSchema } from '../../src/namesrv/config.js';

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

const schema: ConfigSchema = {
  role: 'test',
  keys: {
    port: { kind: 'int', default: 1, min: 0, max: 65535, doc: 'a port' },
    ratio: { kind: 'number', default: 0.5, doc: 'a ratio' },
    on: { kind: 'bool', default: false, doc: 'a switch' },
    mode: {
      kind: 'string',
      default: 'A',
      values: ['A', 'B', 'C'],
      notBuilt: { feature: 'mode C', values: ['C'] },
      doc: '',
    },
    acl: { kind: 'bool', default: false, notBuilt: { feature: 'ACL' }, doc: '' },
    threads: { kind: 'int', default: 4, inert: 'one event loop', doc: '' },
    host: { kind: 'string', default: '0.0.0.0', doc: '' },
  },
  aliases: { bindAddress: 'host' },
};

test('resolveConfig: defaults < file < flags, values read as their kind', () => {
  const r = resolveConfig(schema, [
    { kind: 'file', source: 'a.conf', values: { port: '9877', ratio: '0.25', on: 'TRUE' } },
    { kind: 'flag', source: 'command line', values: { port: 9999, ratio: undefined } },
  ]);
  assert.equal(r.values['port'], 9999);
  assert.equal(r.values['ratio'], 0.25);
  assert.equal(r.values['on'], true);
  assert.equal(r.values['mode'], 'A');
  assert.equal(r.setBy.get('port'), 'flag');
  assert.equal(r.setBy.get('ratio'), 'file');
});

test('resolveConfig: a flag over a different file value is a warning naming key, file value and flag value', () => {
  const r = resolveConfig(schema, [
    { kind: 'default', source: 'launcher', values: { port: 5 } },
    { kind: 'file', source: 'a.conf', values: { port: '10911', on: 'true' } },
    { kind: 'flag', source: 'command line', values: { port: 0, on: true }, names: { port: '--port' } },
  ]);
  assert.equal(r.values['port'], 0);
  assert.equal(r.warnings.length, 1, JSON.stringify(r.warnings)); // same value for `on`: nothing to report
  assert.deepEqual(r.warnings[0]?.fields, {
    key: 'port',
    file: '10911',
    flag: '0',
    flagName: '--port',
    fileName: 'a.conf',
  });
  // A default layer is overridden by the file without a word.
  const quiet = resolveConfig(schema, [
    { kind: 'default', source: 'launcher', values: { port: 5 } },
    { kind: 'file', source: 'a.conf', values: { port: '7' } },
  ]);
  assert.equal(quiet.values['port'], 7);
  assert.deepEqual(quiet.warnings, []);
});

test('resolveConfig: an unknown key is a warning naming the nearest known key', () => {
  const r = resolveConfig(namesrvSchema, [
    { kind: 'file', source: 'n.conf', values: { lisenPort: '1', kvConfgPath: 'x', zzzzqqqq: '1' } },
  ]);
  assert.equal(r.values['listenPort'], 9876);
  assert.deepEqual(
    r.warnings.map((w) => [w.key, w.fields['didYouMean']]),
    [
      ['lisenPort', 'listenPort'],
      ['kvConfgPath', 'kvConfigPath'],
      ['zzzzqqqq', undefined],
    ],
  );
  assert.match(r.warnings[0]?.message ?? '', /unknown NameServer config key lisenPort \(did you mean listenPort\?\)/);
});

test('resolveConfig: bad numbers, booleans, ranges and enum values are refused naming key, value and what is allowed', () => {
  const refused = (values: Record<string, string>, re: RegExp) =>
    assert.throws(
      () => resolveConfig(schema, [{ kind: 'file', source: 'a.conf', values }]),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.ok(err instanceof InvalidArgumentError); // the CLI exits 2 on it
        assert.match(err.message, re);
        return true;
      },
    );
  refused({ port: 'abc' }, /port="abc" \(a\.conf\): expected an integer/);
  refused({ port: '1.5' }, /expected an integer/);
  refused({ port: '70000' }, /port="?70000"? .*at most 65535/);
  refused({ ratio: '' }, /ratio="" .*expected a number/);
  refused({ on: 'yes' }, /on="yes" .*expected true or false/);
  refused({ mode: 'SOMETIMES' }, /mode="SOMETIMES" .*allowed values: A, B, C/);
});

test('resolveConfig: a key whose feature is not built yet is refused, its default accepted', () => {
  assert.throws(
    () => resolveConfig(schema, [{ kind: 'file', source: 'a.conf', values: { acl: 'true' } }]),
    (err: Error) =>
      err instanceof ConfigError && err.key === 'acl' && /acl=true .*ACL is not built yet/.test(err.message),
  );
  assert.throws(
    () => resolveConfig(schema, [{ kind: 'options', source: 'options', values: { mode: 'C' } }]),
    /mode C is not built yet/,
  );
  const ok = resolveConfig(schema, [{ kind: 'file', source: 'a.conf', values: { acl: 'false', mode: 'B' } }]);
  assert.equal(ok.values['mode'], 'B');
  assert.deepEqual(ok.warnings, []);
});

test('resolveConfig: inert keys are accepted with a warning; aliases name the same key', () => {
  const r = resolveConfig(schema, [
    { kind: 'file', source: 'a.conf', values: { threads: '16', bindAddress: '10.0.0.1' } },
  ]);
  assert.equal(r.values['host'], '10.0.0.1');
  assert.deepEqual(
    r.warnings.map((w) => w.message),
    ['threads has no effect in tsrocket: one event loop'],
  );
  assert.throws(
    () => resolveConfig(schema, [{ kind: 'file', source: 'a.conf', values: { host: 'a', bindAddress: 'b' } }]),
    /host and bindAddress .* name one setting but differ/,
  );
});

test('editDistance counts a swap of neighbours as one; nearestKey stays quiet when nothing is close', () => {
  assert.equal(editDistance('brokernmae', 'brokername'), 1);
  assert.equal(editDistance('abc', 'abc'), 0);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(nearestKey('brokerNmae', ['brokerName', 'brokerId']), 'brokerName');
  assert.equal(nearestKey('completelyDifferent', ['brokerName']), undefined);
});

test("namesrv defaults are RocketMQ's", () => {
  const d = namesrvConfigDefaults();
  assert.equal(d.listenPort, 9876);
  assert.equal(d.brokerChannelExpiredTime, 120_000);
  assert.equal(d.bindAddress, '0.0.0.0');
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
