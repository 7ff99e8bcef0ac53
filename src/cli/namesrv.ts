/** `tsrocket namesrv [--port N] [-c namesrv.properties] [--print-config]`: a standalone NameServer. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mergeConfig, namesrvConfigDefaults, readConfigFile } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { NameServer } from '../namesrv/namesrv.js';
import { type CommandResult, type Component, exitOnSignals } from './lifecycle.js';

export const namesrvUsage = `usage: tsrocket namesrv [options]

  -c, --config <file>   RocketMQ-style key=value file (listenPort, kvConfigPath, brokerChannelExpiredTime, ...)
      --port <n>        listen port (default 9876; 0 = any free port, printed in the "listening" log line)
      --kv-config <f>   kvConfigPath (default ~/namesrv/kvConfig.json, as RocketMQ)
      --print-config    print the effective configuration and exit
  -h, --help            this help`;

export async function runNamesrv(argv: string[]): Promise<CommandResult> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string' },
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
  const file = values.config === undefined ? {} : await readConfigFile(values.config);
  const defaults = { ...namesrvConfigDefaults(), kvConfigPath: join(homedir(), 'namesrv', 'kvConfig.json') };
  const { config, unknown } = mergeConfig(defaults, file, {
    listenPort: values.port,
    kvConfigPath: values['kv-config'],
  });
  if (values['print-config'] === true) {
    for (const [k, v] of Object.entries({ ...config, ...unknown })) process.stdout.write(`${k}=${v}\n`);
    return 0;
  }
  const log = createLogger('cli');
  if (Object.keys(unknown).length > 0)
    log.warn('config keys not used by the NameServer', { keys: Object.keys(unknown) });
  const ns = new NameServer(config);
  // Handlers first: a signal right after the "listening" line must still shut down cleanly.
  const running: Component[] = [];
  exitOnSignals(running, log);
  await ns.start();
  running.push({ name: 'namesrv', close: () => ns.close() });
  return 'running';
}
