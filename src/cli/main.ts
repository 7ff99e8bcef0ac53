#!/usr/bin/env node
/**
 * `tsrocket`: one command for every role. Subcommands load lazily (dynamic import) so `start` listens fast.
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../common/errors.js';
import { createLogger } from '../common/log.js';
import type { CommandResult } from './lifecycle.js';

interface Subcommand {
  name: string;
  summary: string;
  run?: (argv: string[]) => Promise<CommandResult>;
}

const subcommands: readonly Subcommand[] = [
  {
    name: 'start',
    summary: 'start everything in one process, data under ./data (NameServer 9876, Broker 10911)',
    run: async (argv) => (await import('./start.js')).runStart(argv),
  },
  {
    name: 'namesrv',
    summary: 'run a NameServer (--port, -c namesrv.properties)',
    run: async (argv) => (await import('./namesrv.js')).runNamesrv(argv),
  },
  {
    name: 'admin',
    summary: 'mqadmin-style administration (topics, clusters, messages); `tsrocket admin --help`',
    run: async (argv) => (await import('./admin/index.js')).runAdmin(argv),
  },
  {
    name: 'broker',
    summary: 'run a Broker (-c broker.conf, -n namesrvAddr)',
    run: async (argv) => (await import('./broker.js')).runBrokerCommand(argv),
  },
  {
    name: 'bench',
    summary: 'benchmarks: produce | consume | e2e, or the default suite (`tsrocket bench --help`)',
    run: async (argv) => (await import('./bench.js')).runBench(argv),
  },
];

function usage(): string {
  const width = Math.max(...subcommands.map((c) => c.name.length));
  return [
    'usage: tsrocket <command> [options]   (tsrocket <command> --help for its options)',
    '',
    'commands:',
    ...subcommands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'options:',
    '  -h, --help     this help',
    '  -v, --version  print the version',
  ].join('\n');
}

function version(): string {
  // dist/src/cli/main.js → package.json at the package root
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: string[]): Promise<CommandResult> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '-v' || name === '--version') {
    process.stdout.write(`tsrocket ${version()}\n`);
    return 0;
  }
  const cmd = subcommands.find((c) => c.name === name);
  if (cmd === undefined) {
    process.stderr.write(`tsrocket: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  if (cmd.run === undefined) {
    process.stderr.write(`tsrocket ${name}: not available yet in this version\n`);
    return 1;
  }
  return cmd.run(rest);
}

function isUsageError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof InvalidArgumentError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
}

main(process.argv.slice(2)).then(
  (result) => {
    if (result !== 'running') process.exit(result);
  },
  (err: unknown) => {
    if (isUsageError(err)) {
      process.stderr.write(`tsrocket: ${(err as Error).message}\n`);
      process.exit(2);
    }
    createLogger('cli').error('failed', { err });
    process.exit(1);
  },
);
