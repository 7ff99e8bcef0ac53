/** Every Error subclass an SDK user can receive (client, remoting, common, the embedded store lock) is exported from the package root. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as root from '../../src/index.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
/** Source folders whose errors reach a user of Producer / PushConsumer / PullConsumer / Admin / startEmbedded. */
// What a user of the SDK or of startEmbedded() can receive.
const userFacing = [
  'src/client',
  'src/remoting',
  'src/common',
  'src/store/dir-lock.ts',
  'src/store/durable-file.ts',
  'src/broker/services/lifecycle.ts',
];

function tsFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => tsFiles(join(path, name)));
}

function errorClasses(): string[] {
  const names: string[] = [];
  for (const dir of userFacing) {
    for (const file of tsFiles(join(repoRoot, dir))) {
      if (!file.endsWith('.ts')) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/export class (\w+) extends \w*Error\b/g)) {
        names.push(m[1] as string);
      }
    }
  }
  return names;
}

test('every user-facing Error subclass is exported from the package root', () => {
  const classes = errorClasses();
  assert.ok(classes.length >= 10, `found only ${classes.length} error classes: the scan is broken`);
  const exported = root as Record<string, unknown>;
  const missing = classes.filter((name) => typeof exported[name] !== 'function');
  assert.deepEqual(missing, [], `export these from src/index.ts: ${missing.join(', ')}`);
});

test('every exported error is a TsRocketError, so one instanceof catches them all', () => {
  for (const name of errorClasses()) {
    const cls = (root as Record<string, unknown>)[name] as (new (...args: never[]) => Error) | undefined;
    if (cls === undefined || cls === root.TsRocketError) continue;
    assert.ok(cls.prototype instanceof root.TsRocketError, `${name} does not extend TsRocketError`);
  }
});
