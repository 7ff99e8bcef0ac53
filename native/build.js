#!/usr/bin/env node
/**
 * Builds the native CRC-32 (native/crc32.c) into dist/native/crc32.node with the machine's C compiler ($CC, else
 * cc) and the running Node's own headers. Part of `npm run build`. Optional: without a compiler or headers the
 * store uses zlib's CRC-32 (slower for bodies over ~160 bytes; the broker's log says which one runs), so this
 * prints why it built nothing and exits 0. Rebuilds only when the source is newer than the module.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'native', 'crc32.c');
const target = path.join(root, 'dist', 'native', 'crc32.node');

function skip(reason) {
  console.log(`native CRC-32 not built (${reason}): the store uses zlib's CRC-32`);
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
const newestInput = Math.max(fs.statSync(source).mtimeMs, fs.statSync(fileURLToPath(import.meta.url)).mtimeMs);
if (fs.existsSync(target) && fs.statSync(target).mtimeMs >= newestInput) process.exit(0);
const headers = nodeHeaders();
if (headers === undefined) skip(`no node_api.h for Node ${process.version} found`);
const cc = process.env.CC || 'cc';
const link = process.platform === 'darwin' ? ['-bundle', '-undefined', 'dynamic_lookup'] : ['-shared'];
fs.mkdirSync(path.dirname(target), { recursive: true });
const tmp = `${target}.${process.pid}.tmp`;
try {
  const args = ['-O2', '-fPIC', '-Wall', `-I${headers}`, ...link, source, '-o', tmp];
  execFileSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  fs.renameSync(tmp, target);
} catch (e) {
  fs.rmSync(tmp, { force: true });
  skip(e.code === 'ENOENT' ? `no C compiler: ${cc} not found` : `${cc} failed: ${e.message.split('\n')[0]}`);
}
