/**
 * Node/V8 flags a server process may be started with (the broker's `nodeFlags` key). Some collector settings only
 * take effect when V8 starts: `--single-threaded-gc` (no GC helper threads, no concurrent marking or sweeping) is
 * refused in NODE_OPTIONS, and switching concurrent marking off later aborts the process. So the command re-runs
 * itself with them (src/cli/relaunch.ts). Only the flags listed here are accepted, so that a typo or a flag that
 * changes semantics is refused at start with the key's name rather than by Node after the process was replaced.
 */

/** Accepted flags: `bare` takes no value, `mib` takes a whole number of MiB (`--flag=N`). */
export const NodeFlagShape = { bare: 'bare', mib: 'mib' } as const;
export type NodeFlagShape = (typeof NodeFlagShape)[keyof typeof NodeFlagShape];

export const nodeFlagsAccepted = {
  '--single-threaded-gc': NodeFlagShape.bare,
  '--no-incremental-marking': NodeFlagShape.bare,
  '--max-semi-space-size': NodeFlagShape.mib,
  '--min-semi-space-size': NodeFlagShape.mib,
  '--max-old-space-size': NodeFlagShape.mib,
} as const satisfies Record<string, NodeFlagShape>;

const mibMax = 1 << 20;

/** The flags of a `nodeFlags` value (space-separated), in order; empty for ''. */
export function splitNodeFlags(text: string): string[] {
  return text.split(/\s+/).filter((f) => f !== '');
}

/** What is wrong with a `nodeFlags` value, or undefined. */
export function nodeFlagsProblem(text: string): string | undefined {
  for (const flag of splitNodeFlags(text)) {
    const eq = flag.indexOf('=');
    const name = eq < 0 ? flag : flag.slice(0, eq);
    const shape = (nodeFlagsAccepted as Record<string, NodeFlagShape>)[name];
    const accepted = Object.keys(nodeFlagsAccepted).join(', ');
    if (shape === undefined) return `${flag} is not a flag tsrocket starts Node with (accepted: ${accepted})`;
    if (shape === NodeFlagShape.bare && eq >= 0) return `${name} takes no value`;
    if (shape === NodeFlagShape.mib) {
      const value = eq < 0 ? '' : flag.slice(eq + 1);
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > mibMax) {
        return `${name} needs a size in MiB, as ${name}=16`;
      }
    }
  }
  return undefined;
}

/** The flags of `wanted` this process was not started with (process.execArgv). */
export function nodeFlagsMissing(wanted: readonly string[], execArgv: readonly string[]): string[] {
  return wanted.filter((f) => !execArgv.includes(f));
}
