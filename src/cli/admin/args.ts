/** mqadmin-style flag parsing: `-n value`, `--namesrvAddr value`, `--namesrvAddr=value`, boolean switches. */

export interface OptionSpec {
  /** One letter, used as `-x`. */
  short: string;
  /** Long name, used as `--name`; also the key in the parsed result. */
  long: string;
  description: string;
  /** False for switches that take no value. */
  takesValue: boolean;
  required?: boolean;
  /** Shown in help; parsed values fall back to it. */
  defaultValue?: string;
}

/** A usage mistake: the CLI prints it with the subcommand's help and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type ParsedArgs = Record<string, string | true>;

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const out: ParsedArgs = {};
  const byShort = new Map(specs.map((s) => [s.short, s]));
  const byLong = new Map(specs.map((s) => [s.long, s]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
      spec = byLong.get(name);
    } else if (arg.startsWith('-') && arg.length >= 2) {
      spec = byShort.get(arg.slice(1, 2));
      if (arg.length > 2) inline = arg.slice(2);
      if (spec === undefined) spec = byLong.get(arg.slice(1)); // `-json` style, tolerated
      if (spec !== undefined && spec.long === arg.slice(1)) inline = undefined;
    } else {
      throw new UsageError(`unexpected argument '${arg}'`);
    }
    if (spec === undefined) throw new UsageError(`unknown option '${arg}'`);
    if (!spec.takesValue) {
      if (inline !== undefined) throw new UsageError(`option --${spec.long} takes no value`);
      out[spec.long] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && !/^-\d/.test(next))) {
        throw new UsageError(`option -${spec.short} (--${spec.long}) needs a value`);
      }
      value = next;
      i++;
    }
    out[spec.long] = value;
  }
  for (const s of specs) {
    if (out[s.long] === undefined && s.defaultValue !== undefined) out[s.long] = s.defaultValue;
  }
  if (out['help'] === true) return out;
  for (const s of specs) {
    if (s.required === true && out[s.long] === undefined) {
      throw new UsageError(`missing required option -${s.short} (--${s.long}): ${s.description}`);
    }
  }
  return out;
}

/** The value of a value-taking option, or undefined. */
export function stringOpt(args: ParsedArgs, long: string): string | undefined {
  const v = args[long];
  return typeof v === 'string' ? v : undefined;
}

/** An integer option within [min, max]; a bad value is a UsageError. */
export function intOpt(args: ParsedArgs, long: string, min: number, max: number): number | undefined {
  const v = stringOpt(args, long);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`option --${long} must be an integer in ${min}..${max}, got '${v}'`);
  }
  return n;
}

export function boolOpt(args: ParsedArgs, long: string): boolean | undefined {
  const v = args[long];
  if (v === undefined) return undefined;
  if (v === true || v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`option --${long} must be true or false, got '${v}'`);
}

export function formatHelp(usage: string, summary: string, specs: readonly OptionSpec[]): string {
  const rows = specs.map((s) => {
    const left = `  -${s.short}, --${s.long}${s.takesValue ? ` <${s.long}>` : ''}`;
    const tail = `${s.required ? ' (required)' : ''}${s.defaultValue !== undefined ? ` [default: ${s.defaultValue}]` : ''}`;
    return [left, `${s.description}${tail}`] as const;
  });
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  return [`usage: ${usage}`, summary, '', ...rows.map(([l, r]) => `${l.padEnd(width)}  ${r}`)].join('\n');
}
