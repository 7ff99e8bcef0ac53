/** The timer keys of broker.conf: built now (no longer refused), checked against their bounds, reaching the store. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadBrokerConfig } from '../../../src/broker/config.js';
import { ConfigError } from '../../../src/common/config.js';

async function load(text: string) {
  const dir = await mkdtemp(join(tmpdir(), 'tsrocket-timer-conf-'));
  try {
    const file = join(dir, 'broker.conf');
    await writeFile(file, text);
    return await loadBrokerConfig({ file });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('timerWheelEnable / timerPrecisionMs / timerMaxDelaySec are accepted and reach the store config', async () => {
  const got = await load('timerWheelEnable=false\ntimerPrecisionMs=100\ntimerMaxDelaySec=604800\n');
  assert.equal(got.store.timerWheelEnable, false);
  assert.equal(got.store.timerPrecisionMs, 100);
  assert.equal(got.store.timerMaxDelaySec, 604_800);
});

test('timerPrecisionMs outside 100-1000 and a timerMaxDelaySec below 1 are refused, naming the key', async () => {
  for (const line of ['timerPrecisionMs=50', 'timerPrecisionMs=5000', 'timerMaxDelaySec=0']) {
    await assert.rejects(load(`${line}\n`), (err: Error) => {
      assert.ok(err instanceof ConfigError, `${line}: ${err}`);
      assert.match(err.message, new RegExp(line.split('=')[0] as string));
      return true;
    });
  }
});
