/**
 * `tsrocket admin <subcommand> [flags]`: mqadmin-compatible administration. Exit codes: 0 ok, 1 the server
 * or network failed (message names the response code and remark), 2 usage error.
 */
import { Admin } from '../../client/admin/admin.js';
import { InvalidArgumentError, TsRocketError } from '../../common/errors.js';
import { RemotingResponseError } from '../../remoting/errors.js';
import { formatHelp, parseArgs, stringOpt, UsageError } from './args.js';
import { type AdminCommand, type AdminIo, commonOptions } from './command.js';
import { dlqCommands } from './dlq-commands.js';
import { messageCommands } from './message-commands.js';
import { offsetCommands } from './offset-commands.js';
import { topicCommands } from './topic-commands.js';
import { traceCommands } from './trace-commands.js';

export type { AdminIo } from './command.js';

export const adminCommands: readonly AdminCommand[] = [
  ...topicCommands,
  ...messageCommands,
  ...dlqCommands,
  ...offsetCommands,
  ...traceCommands,
];

export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const;

const stdio: AdminIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

export function adminUsage(): string {
  const width = Math.max(...adminCommands.map((c) => c.name.length));
  return [
    'usage: tsrocket admin <subcommand> [options]   (-h after a subcommand for its options)',
    '',
    ...adminCommands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

/** Runs one admin subcommand; resolves to the process exit code. */
export async function runAdmin(argv: string[], io: AdminIo = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? io.err : io.out)(adminUsage());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const cmd =
    adminCommands.find((c) => c.name === name) ??
    adminCommands.find((c) => c.name.toLowerCase() === name.toLowerCase());
  if (cmd === undefined) {
    io.err(`unknown admin subcommand '${name}'\n\n${adminUsage()}`);
    return ExitCode.usage;
  }
  const specs = [...cmd.options, ...commonOptions];
  const help = formatHelp(`tsrocket admin ${cmd.name} [options]`, cmd.summary, specs);
  let admin: Admin | undefined;
  try {
    const args = parseArgs(rest, specs);
    if (args['help'] === true) {
      io.out(help);
      return ExitCode.ok;
    }
    admin = new Admin({
      nameServer: stringOpt(args, 'namesrvAddr') ?? process.env['NAMESRV_ADDR'] ?? '127.0.0.1:9876',
    });
    await cmd.run({ admin, args, io, json: args['json'] === true });
    return ExitCode.ok;
  } catch (e) {
    if (e instanceof UsageError || e instanceof InvalidArgumentError) {
      io.err(`${cmd.name}: ${e.message}\n\n${help}`);
      return ExitCode.usage;
    }
    io.err(`${cmd.name} failed: ${describeError(e)}`);
    return ExitCode.failed;
  } finally {
    await admin?.close();
  }
}

export function describeError(e: unknown): string {
  if (e instanceof RemotingResponseError) return e.message;
  if (e instanceof TsRocketError) return `${e.name}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
