/** `tsrocket namesrv [--port N] [--host ADDR] [-c namesrv.properties] [--print-config]`: a standalone NameServer. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readConfigFile, resolveConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { type NamesrvConfig, namesrvKeys, namesrvSchema } from '../namesrv/config.js';
import { NameServer } from '../namesrv/namesrv.js';
import { portFlag, sayHowToStop } from './flags.js';
import { type CommandResult, type Component, exitOnSignals } from './lifecycle.js';

export const namesrvUsage = `usage: tsrocket namesrv [options]

  -c, --config <file>   RocketMQ-style key=value file (listenPort, bindAddress, kvConfigPath, ...;
                        see docs/configuration.md); flags below win over it
      --port <n>        listen port (default 9876; 0 = any free port, printed in the "listening" log line)
      --host <addr>     address to listen on (default 0.0.0.0; 127.0.0.1 keeps it on this machine)
      --kv-config <f>   kvConfigPath (default ~/namesrv/kvConfig.json, as RocketMQ)
      --print-config    print the effective configuration and exit
  -h, --help            this help`;

export async function runNamesrv(argv: string[]): Promise<CommandResult> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string' },
      host: { type: 'string' },
      'kv-config': { type: 'string' },
      'print-config': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    process.stdout.write(`${namesrvUsage}\n`);
    return 0;
  }
  const resolved = resolveConfig(namesrvSchema, [
    {
      kind: 'default',
      source: 'tsrocket namesrv',
      values: { kvConfigPath: join(homedir(), 'namesrv', 'kvConfig.json') },
    },
    ...(values.config === undefined
      ? []
      : [{ kind: 'file' as const, source: values.config, values: await readConfigFile(values.config) }]),
    {
      kind: 'flag',
      source: 'command line',
      values: {
        listenPort: portFlag('--port', values.port),
        bindAddress: values.host,
        kvConfigPath: values['kv-config'],
      },
      names: { listenPort: '--port', bindAddress: '--host', kvConfigPath: '--kv-config' },
    },
  ]);
  const config = Object.fromEntries(
    Object.keys(namesrvKeys).map((k) => [k, resolved.values[k]]),
  ) as unknown as NamesrvConfig;
  if (values['print-config'] === true) {
    for (const w of resolved.warnings) process.stderr.write(`tsrocket: warning: ${w.message}\n`);
    for (const [k, v] of Object.entries(config)) process.stdout.write(`${k}=${v}\n`);
    return 0;
  }
  const log = createLogger('cli');
  for (const w of resolved.warnings) log.warn(w.message, w.fields);
  const ns = new NameServer(config);
  // Handlers first: a signal right after the "listening" line must still shut down cleanly.
  const running: Component[] = [];
  exitOnSignals(running, log);
  await ns.start();
  running.push({ name: 'namesrv', close: () => ns.close() });
  sayHowToStop(log);
  return 'running';
}
