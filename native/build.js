#!/usr/bin/env node
/**
 * Builds each native module (native/<name>.c → dist/native/<name>.node; today crc32.c, the bodies' CRC-32) with the
 * machine's C compiler ($CC, else cc) and the running Node's own headers. Part of `npm run build`. Optional: each
 * module has a JavaScript fallback (the store uses zlib's CRC-32 without crc32.node; the broker's log says which
 * one runs), so without a compiler or headers this prints why it built nothing and exits 0. Rebuilds a module
 * only when its source (or this script) is newer than it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sources = fs
  .readdirSync(path.join(root, 'native'))
  .filter((f) => f.endsWith('.c'))
  .sort();

function skip(reason) {
  console.log(`native modules not built (${reason}): the JavaScript fallbacks run (zlib's CRC-32 for bodies)`);
  process.exit(0);
}

function nodeHeaders() {
  const candidates = [
    path.join(path.dirname(fs.realpathSync(process.execPath)), '..', 'include', 'node'),
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.join(os.homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
  ];
  return candidates.find((d) => d && fs.existsSync(path.join(d, 'node_api.h')));
}

if (process.platform === 'win32') skip('no build recipe for Windows yet');
const scriptMs = fs.statSync(fileURLToPath(import.meta.url)).mtimeMs;
const stale = sources.filter((f) => {
  const target = targetOf(f);
  const newestInput = Math.max(fs.statSync(path.join(root, 'native', f)).mtimeMs, scriptMs);
  return !fs.existsSync(target) || fs.statSync(target).mtimeMs < newestInput;
});
if (stale.length === 0) process.exit(0);
const headers = nodeHeaders();
if (headers === undefined) skip(`no node_api.h for Node ${process.version} found`);
const cc = process.env.CC || 'cc';
const link = process.platform === 'darwin' ? ['-bundle', '-undefined', 'dynamic_lookup'] : ['-shared'];
for (const f of stale) {
  const target = targetOf(f);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    const args = ['-O2', '-fPIC', '-Wall', `-I${headers}`, ...link, path.join(root, 'native', f), '-o', tmp];
    execFileSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    skip(e.code === 'ENOENT' ? `no C compiler: ${cc} not found` : `${cc} failed on ${f}: ${e.message.split('\n')[0]}`);
  }
}

function targetOf(source) {
  return path.join(root, 'dist', 'native', `${path.basename(source, '.c')}.node`);
}
