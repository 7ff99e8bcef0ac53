#!/usr/bin/env node
// The `tsrocket` command. A published package ships dist/; a git checkout has none until it is built, so the
// first run in a checkout builds it: into a temporary directory renamed into place, so that nothing reading
// dist/ at the same time (a test run) ever sees half-written files. Later source changes: `npm run build`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const main = join(dist, 'src', 'cli', 'main.js');

function fail(message) {
  process.stderr.write(`tsrocket: ${message}\n`);
  process.exit(1);
}

function buildOnce() {
  let tsc;
  try {
    const tsPackage = createRequire(join(root, 'package.json')).resolve('typescript/package.json');
    tsc = join(dirname(tsPackage), JSON.parse(readFileSync(tsPackage, 'utf8')).bin.tsc);
  } catch {
    fail(`${main} is missing and TypeScript is not installed here: run \`npm ci && npm run build\` first`);
  }
  process.stderr.write('tsrocket: first run in this checkout, compiling to dist/ …\n');
  const tmp = join(root, `.dist-build-${process.pid}`);
  const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', tmp], {
    cwd: root,
    stdio: 'inherit',
  });
  if (built.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    fail('the build failed (see above); `npm run build` shows the same errors');
  }
  try {
    renameSync(tmp, dist);
  } catch {
    // Another build won the race: use its output.
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!existsSync(main)) fail(`${main} is still missing: run \`npm run build\``);
  // The optional native CRC-32 (`npm run build` does the same; without a C compiler it says so and builds nothing).
  const nativeBuild = join(root, 'native', 'build.js');
  if (existsSync(nativeBuild)) spawnSync(process.execPath, [nativeBuild], { cwd: root, stdio: 'inherit' });
}

if (!existsSync(main)) buildOnce();
await import(pathToFileURL(main).href);
