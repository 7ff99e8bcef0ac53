/**
 * Small files replaced whole (broker metadata: topics, consumer offsets, subscription groups), through StorageIO
 * so fault tests reach every step. A save writes `<file>.tmp` and fdatasyncs it, moves the current file to
 * `<file>.bak` (the previous good copy, as RocketMQ keeps one), renames the temp file into place and fsyncs the
 * folder. A load ignores and removes temp files (a crash cut their write short) and falls back to the `.bak`
 * when the main file is missing or unreadable; it never answers "empty" while a good copy exists.
 */
import path from 'node:path';
import { TsRocketError } from '../common/errors.js';
import type { StorageIO } from './io.js';

/** Neither the file nor its `.bak` holds a readable copy, though one of them has content. */
export class DurableFileCorruptError extends TsRocketError {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`${file} is unreadable and has no readable ${path.basename(file)}.bak: ${(cause as Error).message}`, {
      cause,
    });
  }
}

export const backupSuffix = '.bak';
const tmpSuffix = '.tmp';

/** Replaces `file` with `data` durably, keeping the previous copy as `<file>.bak`. Throws on any I/O error. */
export async function replaceFileDurable(io: StorageIO, file: string, data: Buffer): Promise<void> {
  const dir = path.dirname(file);
  await io.mkdirp(dir);
  const tmp = file + tmpSuffix;
  const f = await io.open(tmp);
  try {
    await f.truncate(0);
    await f.write(data, 0);
    await f.datasync();
  } finally {
    await f.close();
  }
  if (await io.exists(file)) await io.rename(file, file + backupSuffix);
  await io.rename(tmp, file);
  await io.syncDir(dir);
}

/** What a load found: the parsed value and whether it came from the `.bak`. */
export interface Loaded<T> {
  value: T;
  fromBackup: boolean;
}

/**
 * Loads `file` with `parse` (which throws on invalid content), else its `.bak`; undefined when neither exists
 * or both are empty. Throws DurableFileCorruptError when one has content and neither parses.
 */
export async function loadFileWithBackup<T>(
  io: StorageIO,
  file: string,
  parse: (data: Buffer) => T,
): Promise<Loaded<T> | undefined> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  for (const name of await io.readdir(dir)) {
    if (name.startsWith(base + tmpSuffix)) await io.unlink(path.join(dir, name));
  }
  let failure: unknown;
  for (const [candidate, fromBackup] of [
    [file, false],
    [file + backupSuffix, true],
  ] as const) {
    const data = await io.readFile(candidate);
    if (data === undefined || data.toString('utf8').trim() === '') continue;
    try {
      return { value: parse(data), fromBackup };
    } catch (err) {
      failure ??= err;
    }
  }
  if (failure !== undefined) throw new DurableFileCorruptError(file, failure);
  return undefined;
}
