/**
 * The memory state a server writes into, made a stated condition of a run instead of luck.
 *
 * On a VM whose freed memory goes back to the host at once (free page reporting, as on the project's machines), a
 * page-cache write into a page the host took back costs several times a write into a recycled page (~2.6 system-µs per
 * KiB more here): a broker's CPU per message then depends on what the machine freed before the run. A long-running
 * broker host has its memory full of page cache, so its writes recycle pages. `--page-cache <MiB>` reproduces that:
 * each server runs in a memory cgroup of its own whose page cache is held to that budget, filled before the server
 * starts with clean pages of a filler file, so from its first write on the server reclaims page cache, in its own
 * context (that reclaim is a cost a real broker pays, and it is counted in the server's CPU). The server's own
 * memory (heap, RSS) is not limited: the cgroup's limit follows it (its non-page-cache usage + the budget, raised
 * every 200 ms, never lowered), so a server that holds its data in memory (Redis) is not killed, and every server gets
 * the same page-cache budget. `lift()` removes the limit: the server then writes into the free pool, i.e. host memory
 * as found, the figure reported beside the recycled one. On such a VM that is fresh memory only once the pages freed
 * moments before (not yet reported) are used up: reported pages wait at the tail of the allocator's free lists.
 *
 * cgroup v1 (`memory` controller: `memory.limit_in_bytes`, `memory.stat`) and v2 (`memory.max`, `memory.stat`)
 * below the harness's own cgroup. Where neither can be made (not root, no controller, v2's delegation rules), the
 * caller gets the reason and the run says so ("host memory as found").
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const mib = 1024 * 1024;
const followMs = 200;
/** Written while the filler is written, before the server's own usage is known. */
const fillerSlack = 64 * mib;

export interface CgroupPaths {
  version: 1 | 2;
  /** The directory of the harness's own memory cgroup. */
  parent: string;
}

/** Where this process's memory cgroup is, from /proc/self/cgroup and the mounts under /sys/fs/cgroup. */
export function ownMemoryCgroup(
  procSelfCgroup: string,
  exists: (p: string) => boolean = fs.existsSync,
): CgroupPaths | string {
  const lines = procSelfCgroup.split('\n').filter((l) => l !== '');
  for (const line of lines) {
    const parts = line.split(':');
    const where = parts.slice(2).join(':') || '/';
    if ((parts[1] ?? '').split(',').includes('memory')) {
      const dir = path.join('/sys/fs/cgroup/memory', where);
      if (exists(path.join(dir, 'memory.limit_in_bytes'))) return { version: 1, parent: dir };
      return `no cgroup v1 memory directory at ${dir}`;
    }
  }
  const unified = lines.find((l) => l.startsWith('0::'));
  if (unified !== undefined) {
    const where = unified.slice(3) || '/';
    for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
      const dir = path.join(root, where);
      // A child's memory.max exists only where this cgroup hands the controller down (cgroup.subtree_control).
      if (exists(path.join(dir, 'cgroup.controllers'))) return { version: 2, parent: dir };
    }
  }
  return 'no memory cgroup found for this process (/proc/self/cgroup)';
}

/** Page-cache bytes and everything else charged to a cgroup, from its memory.stat and usage. */
export function usageSplit(stat: string, usage: number): { pageCache: number; other: number } {
  const field = (name: string) => {
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(stat);
    return m === null ? 0 : Number(m[1]);
  };
  // Both versions name the file-backed LRU lists so (v1 also has total_* for the hierarchy; a server's cgroup has no
  // children).
  const pageCache = field('active_file') + field('inactive_file');
  return { pageCache, other: Math.max(0, usage - pageCache) };
}

/** A server's memory cgroup: made before it starts, removed after it ended. */
export class ServerMemoryCgroup {
  private limit = 0;
  private follower: NodeJS.Timeout | undefined;
  private lifted = false;
  private fillerDir: string | undefined;

  private constructor(
    readonly dir: string,
    private readonly version: 1 | 2,
    readonly budgetBytes: number,
  ) {}

  /** Makes the cgroup with the page-cache budget and fills it with clean page cache; a string says why it cannot. */
  static create(where: CgroupPaths, name: string, budgetMiB: number): ServerMemoryCgroup | string {
    const dir = path.join(where.parent, name);
    try {
      fs.mkdirSync(dir);
    } catch (err) {
      return `cannot make a memory cgroup at ${dir}: ${(err as Error).message}`;
    }
    const cg = new ServerMemoryCgroup(dir, where.version, budgetMiB * mib);
    try {
      cg.setLimit(cg.budgetBytes + fillerSlack);
      cg.fill();
    } catch (err) {
      cg.remove();
      return `cannot use the memory cgroup at ${dir}: ${(err as Error).message}`;
    }
    return cg;
  }

  /** The command line that runs `cmd args` inside this cgroup (the shell moves itself in, then execs). */
  wrap(cmd: string, args: readonly string[]): { cmd: string; args: string[] } {
    return {
      cmd: '/bin/sh',
      args: ['-c', 'echo $$ > "$0" && exec "$@"', path.join(this.dir, 'cgroup.procs'), cmd, ...args],
    };
  }

  /** Starts following the server's own memory: limit = its non-page-cache usage + the budget (raised only). */
  follow(): void {
    this.follower = setInterval(() => this.raise(), followMs);
    this.follower.unref();
  }

  /** No limit from now on: the server's page cache grows into the free pool (host memory as found). */
  lift(): void {
    this.lifted = true;
    this.setLimit(-1);
  }

  /** Page cache held now and the non-page-cache rest, bytes. */
  usage(): { pageCache: number; other: number } {
    const usage = Number(
      fs.readFileSync(path.join(this.dir, this.version === 1 ? 'memory.usage_in_bytes' : 'memory.current'), 'utf8'),
    );
    return usageSplit(fs.readFileSync(path.join(this.dir, 'memory.stat'), 'utf8'), usage);
  }

  /** After the server ended: the filler goes, the cgroup is removed (its pages move to the parent). */
  remove(): void {
    clearInterval(this.follower);
    if (this.fillerDir !== undefined) fs.rmSync(this.fillerDir, { recursive: true, force: true });
    this.fillerDir = undefined;
    for (let i = 0; i < 50; i++) {
      try {
        fs.rmdirSync(this.dir);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        // A process of the group may still be exiting.
        spawnSync('sleep', ['0.1']);
      }
    }
  }

  private raise(): void {
    if (this.lifted) return;
    try {
      const want = this.usage().other + this.budgetBytes;
      if (want > this.limit) this.setLimit(want);
    } catch {
      // The cgroup went away with its server.
    }
  }

  private setLimit(bytes: number): void {
    const file = this.version === 1 ? 'memory.limit_in_bytes' : 'memory.max';
    const text = bytes < 0 ? (this.version === 1 ? '-1' : 'max') : String(bytes);
    fs.writeFileSync(path.join(this.dir, file), text);
    if (bytes >= 0) this.limit = bytes;
  }

  /** Clean page cache of the budget's size, charged to the cgroup: a file written by `dd` inside it, synced. */
  private fill(): void {
    this.fillerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrocket-memfill-'));
    const file = path.join(this.fillerDir, 'filler');
    const mibs = Math.round(this.budgetBytes / mib);
    const r = spawnSync(
      '/bin/sh',
      [
        '-c',
        'echo $$ > "$0" && exec dd if=/dev/zero of="$1" bs=1M count="$2" conv=fdatasync status=none',
        path.join(this.dir, 'cgroup.procs'),
        file,
        String(mibs),
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`filler dd failed (${r.status ?? r.signal}): ${r.stderr.trim()}`);
    const held = this.usage().pageCache;
    if (held < this.budgetBytes / 2) {
      throw new Error(`the filler left ${Math.round(held / mib)} MiB of page cache charged to the cgroup`);
    }
  }
}

/**
 * Whether a server cgroup with a limit can be made below `where` (made, limited and removed again): undefined when
 * it can, else the reason.
 */
export function probeCgroup(where: CgroupPaths): string | undefined {
  const dir = path.join(where.parent, `tsrocket-bench-probe-${process.pid}`);
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    return `cannot make a memory cgroup below ${where.parent}: ${(err as Error).message}`;
  }
  try {
    fs.writeFileSync(path.join(dir, where.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'), String(256 * mib));
    return undefined;
  } catch (err) {
    return `cannot limit a memory cgroup below ${where.parent}: ${(err as Error).message}`;
  } finally {
    fs.rmdirSync(dir);
  }
}

/** How the memory state of a run is named in its rows and JSON. */
export function memoryStateLabel(budgetMiB: number | undefined, lifted = false): string {
  if (budgetMiB === undefined) return 'host memory as found';
  return lifted ? 'free pool as found (cgroup limit lifted)' : `page cache recycled (${budgetMiB} MiB cgroup)`;
}

/**
 * KiB this guest has reported to its host as free since boot (free page reporting; the counter this machine's kernel
 * has in /sys/module/page_reporting/parameters), or undefined where there is none.
 */
export function reportedToHostKib(): number | undefined {
  try {
    const n = Number(fs.readFileSync('/sys/module/page_reporting/parameters/reported_kib', 'utf8'));
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
