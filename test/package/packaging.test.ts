/**
 * What `npm pack` ships and what a checkout runs: no install-time build into the dist/ that tests read, an
 * exports map, no source maps pointing at unshipped sources, a LICENSE, and docs that stay inside the repository.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  bin: Record<string, string>;
  exports: Record<string, unknown>;
  scripts: Record<string, string>;
};

test('installing the checkout builds nothing: no install-time script runs tsc', () => {
  for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) {
    assert.equal(pkg.scripts[hook], undefined, `package.json must not have a "${hook}" script`);
  }
  // README's `npm ci && npm start` and `npm ci && npm test` still build first.
  assert.match(pkg.scripts['prestart'] ?? '', /build|tsc/);
  assert.match(pkg.scripts['pretest'] ?? '', /build|tsc/);
});

test('npm pack ships the root entry, its types, the bin, LICENSE and no source maps', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map((f) => f.path) ?? [];
  assert.deepEqual(
    files.filter((f) => f.endsWith('.map')),
    [],
  );
  assert.deepEqual(
    files.filter((f) => f.startsWith('dist/test/') || f.startsWith('src/') || f.startsWith('test/')),
    [],
  );
  for (const need of ['LICENSE', 'README.md', 'package.json', 'dist/src/index.js', 'dist/src/index.d.ts']) {
    assert.ok(files.includes(need), `${need} is not in the package`);
  }
  for (const bin of Object.values(pkg.bin)) assert.ok(files.includes(bin), `bin ${bin} is not in the package`);
});

test('the exports map points at built files, and the bin runs', async () => {
  const dot = pkg.exports['.'] as { types: string; default: string };
  assert.ok(existsSync(join(root, dot.types)));
  const mod = (await import(join(root, dot.default))) as Record<string, unknown>;
  assert.equal(typeof mod['Producer'], 'function');
  assert.equal(pkg.exports['./package.json'], './package.json');
  // The package imports itself by name through the exports map (a variable keeps tsc from resolving it early).
  const name = 'tsrocket';
  const byName = (await import(name)) as Record<string, unknown>;
  assert.equal(byName['Producer'], mod['Producer']);
  assert.equal(typeof byName['TsRocketError'], 'function');
  const out = execFileSync(process.execPath, [join(root, pkg.bin['tsrocket'] as string), '--version'], {
    encoding: 'utf8',
  });
  assert.equal(out.trim(), `tsrocket ${pkg.version}`);
});

test('LICENSE holds the Apache-2.0 text package.json names', () => {
  assert.equal(pkg.license, 'Apache-2.0');
  const text = readFileSync(join(root, 'LICENSE'), 'utf8');
  assert.match(text, /Apache License\s+Version 2\.0, January 2004/);
  assert.match(text, /END OF TERMS AND CONDITIONS/);
});

test('README and docs/ link only to files inside the repository', () => {
  const docs = ['README.md', ...readdirSync(join(root, 'docs')).map((f) => join('docs', f))].filter((f) =>
    f.endsWith('.md'),
  );
  for (const doc of docs) {
    const text = readFileSync(join(root, doc), 'utf8');
    for (const m of text.matchAll(/\]\(([^)\s#]+)[^)]*\)/g)) {
      const target = m[1] as string;
      if (/^[a-z]+:/.test(target)) continue;
      const path = resolve(root, dirname(doc), target);
      assert.ok(path.startsWith(root) && existsSync(path), `${doc} links to ${target}, which is not in the repo`);
    }
    // Files named in prose (`X.md`) must exist too: a doc may not lean on one kept elsewhere.
    for (const m of text.matchAll(/\b([A-Z][A-Z-]+\.md)\b/g)) {
      const name = m[1] as string;
      assert.ok(
        existsSync(join(root, name)) || existsSync(join(root, 'docs', name)),
        `${doc} refers to ${name}, which is not in the repository`,
      );
    }
  }
});
