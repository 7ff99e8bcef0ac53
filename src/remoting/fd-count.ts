/** The process's file descriptor limit and count, read from /proc on Linux; undefined where /proc is absent. */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';

/**
 * The soft "Max open files" limit (what `ulimit -n` sets; Node raises it to the hard limit at start-up, so this
 * is read after that). undefined when unknown or unlimited.
 */
export function processFdLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (m === null || m[1] === 'unlimited') return undefined;
  return Number(m[1]);
}

/**
 * File descriptors open now. 'exhausted' when listing them failed for want of one (EMFILE/ENFILE): the process
 * is at its limit. undefined when /proc is absent.
 */
export async function openFdCount(): Promise<number | 'exhausted' | undefined> {
  try {
    // The listing holds one fd of its own, which is closed again before this resolves.
    return (await readdir('/proc/self/fd')).length - 1;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EMFILE' || code === 'ENFILE' ? 'exhausted' : undefined;
  }
}
