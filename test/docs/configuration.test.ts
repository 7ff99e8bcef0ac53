/**
 * docs/configuration.md is checked against the key tables, so the reference and the code cannot drift.
 * After changing a table: `npm run build && UPDATE_CONFIG_DOC=1 node --test dist/test/docs/configuration.test.js`.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { brokerKeys, brokerPlannedKeys, brokerSchema } from '../../src/broker/config-keys.js';
import type { ConfigKey, ConfigScalar } from '../../src/common/config.js';
import { namesrvKeys, namesrvSchema } from '../../src/namesrv/config.js';
import { storeKeyAliases, storeKeys, storePlannedKeys } from '../../src/store/config.js';

const docPath = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));
const begin = '<!-- generated from the key tables: begin -->';
const end = '<!-- generated from the key tables: end -->';

const cell = (text: string): string => text.replace(/\|/g, '\\|');

function defaultText(spec: ConfigKey): string {
  if (spec.defaultText !== undefined) return `\`${spec.defaultText}\``;
  return shown(spec.default);
}

const shown = (v: ConfigScalar): string => (v === '' ? "`''`" : `\`${String(v)}\``);

function status(spec: ConfigKey): string {
  if (spec.notBuilt !== undefined) {
    const refused =
      spec.notBuilt.values === undefined
        ? `any value but ${shown(spec.default)} is refused`
        : `${spec.notBuilt.values.map(shown).join(', ')} refused`;
    return `not built yet: ${spec.notBuilt.feature}; ${refused}`;
  }
  if (spec.inert !== undefined) return `no effect: ${spec.inert}`;
  return spec.tsrocket === true ? 'supported (tsrocket key)' : 'supported';
}

function meaning(spec: ConfigKey): string {
  const parts = [spec.doc];
  if (spec.values !== undefined) parts.push(`One of ${spec.values.map(shown).join(', ')}.`);
  if (spec.min !== undefined && spec.max !== undefined) parts.push(`Range ${spec.min}–${spec.max}.`);
  else if (spec.min !== undefined) parts.push(`At least ${spec.min}.`);
  else if (spec.max !== undefined) parts.push(`At most ${spec.max}.`);
  return parts.join(' ');
}

function table(keys: Readonly<Record<string, ConfigKey>>): string {
  const rows = Object.entries(keys).map(
    ([key, spec]) =>
      `| \`${key}\` | ${cell(defaultText(spec))} | ${spec.kind} | ${cell(status(spec))} | ${cell(meaning(spec))} |`,
  );
  return ['| key | default | type | status | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}

function namesrvInert(): Record<string, ConfigKey> {
  return Object.fromEntries(Object.entries(namesrvSchema.keys).filter(([k]) => !Object.hasOwn(namesrvKeys, k)));
}

function aliases(map: Readonly<Record<string, string>>): string {
  return Object.entries(map)
    .map(([alias, key]) => `\`${alias}\` → \`${key}\``)
    .join(', ');
}

export function renderReference(): string {
  return [
    begin,
    '',
    '### Broker keys (broker.conf)',
    '',
    table(brokerKeys),
    '',
    '### Store keys (broker.conf)',
    '',
    'storePathRootDir and maxMessageSize, in the broker table, set the store too.',
    '',
    table(Object.fromEntries(Object.entries(storeKeys).filter(([k]) => !Object.hasOwn(brokerKeys, k)))),
    '',
    '### RocketMQ broker and store keys tsrocket does not read',
    '',
    'Keys of features not built yet are refused when they ask for the feature (exit code 2, or a ConfigError',
    'from the library); each refusal is lifted by the issue that builds the feature. Keys with no effect are',
    'accepted with a warning.',
    '',
    table({ ...brokerPlannedKeys, ...storePlannedKeys }),
    '',
    `Other spellings accepted in broker.conf: ${aliases(brokerSchema.aliases ?? {})}.`,
    '',
    '### NameServer keys (namesrv.properties)',
    '',
    table({ ...namesrvKeys, ...namesrvInert() }),
    '',
    `Other spellings accepted: ${aliases(namesrvSchema.aliases ?? {})}.`,
    '',
    end,
  ].join('\n');
}

test('docs/configuration.md lists every key of the tables with its default, type, status and meaning', async () => {
  const doc = await readFile(docPath, 'utf8');
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  assert.ok(from >= 0 && to > from, `markers missing in ${docPath}`);
  const current = doc.slice(from, to + end.length);
  const expected = renderReference();
  if (process.env['UPDATE_CONFIG_DOC'] === '1' && current !== expected) {
    await writeFile(docPath, doc.slice(0, from) + expected + doc.slice(to + end.length));
    return;
  }
  assert.equal(current, expected, 'docs/configuration.md is stale: regenerate it (see the head of this test)');
});

test('no key is in two tables, and every alias names a known key', () => {
  const tables = [brokerKeys, brokerPlannedKeys, storePlannedKeys];
  const seen = new Map<string, number>();
  for (const [i, t] of tables.entries()) {
    for (const k of Object.keys(t)) {
      assert.equal(seen.get(k), undefined, `${k} is in two tables`);
      seen.set(k, i);
    }
  }
  for (const k of Object.keys(storePlannedKeys)) assert.ok(!Object.hasOwn(storeKeys, k), `${k} is in two tables`);
  for (const k of Object.keys(brokerPlannedKeys)) assert.ok(!Object.hasOwn(storeKeys, k), `${k} is in two tables`);
  for (const key of Object.values({ ...storeKeyAliases, ...brokerSchema.aliases })) {
    assert.ok(Object.hasOwn(brokerSchema.keys, key), key);
  }
  for (const key of Object.values(namesrvSchema.aliases ?? {})) assert.ok(Object.hasOwn(namesrvSchema.keys, key), key);
});
