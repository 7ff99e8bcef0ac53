import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KvConfigManager } from '../../src/namesrv/kv-config-manager.js';

test('KV config persists as KVConfigSerializeWrapper JSON and reloads', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-kv-'));
  try {
    const path = join(dir, 'namesrv', 'kvConfig.json');
    const kv = new KvConfigManager(path);
    await kv.load(); // missing file = empty
    await kv.put('ORDER_TOPIC_CONFIG', 'T1', 'broker-a:4');
    await kv.put('NS', 'a', '1');
    await kv.put('NS', 'b', '2');
    await kv.delete('NS', 'a');
    await kv.delete('NS', 'missing');
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), {
      configTable: { ORDER_TOPIC_CONFIG: { T1: 'broker-a:4' }, NS: { b: '2' } },
    });
    const again = new KvConfigManager(path);
    await again.load();
    assert.equal(again.get('ORDER_TOPIC_CONFIG', 'T1'), 'broker-a:4');
    assert.deepEqual(again.list('NS'), { b: '2' });
    assert.equal(again.list('none'), undefined);
    await again.delete('NS', 'b');
    assert.equal(again.list('NS'), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file written by Java (unquoted keys) loads; memory-only mode writes nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-kv-'));
  try {
    const path = join(dir, 'kv.json');
    await writeFile(path, '{"configTable":{"NS":{"k":"v",1:"one"}}}');
    const kv = new KvConfigManager(path);
    await kv.load();
    assert.deepEqual(kv.list('NS'), { k: 'v', '1': 'one' });
    const mem = new KvConfigManager('');
    await mem.load();
    await mem.put('NS', 'x', 'y');
    assert.equal(mem.get('NS', 'x'), 'y');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
