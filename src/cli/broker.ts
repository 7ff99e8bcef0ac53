/** `tsrocket broker [-c broker.conf] [-n namesrvAddr] [--port N] [--host ADDR] [--data DIR]`: a standalone Broker. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BrokerConfig } from '../broker/config.js';
import { createLogger } from '../common/log.js';
import { portFlag, sayHowToStop } from './flags.js';
import { type CommandResult, type Component, exitOnSignals } from './lifecycle.js';

export const brokerUsage = `usage: tsrocket broker [options]

  -c, --config <file>        broker.conf (key=value, RocketMQ key names: brokerClusterName, brokerName,
                             listenPort, namesrvAddr, brokerIP1, storePathRootDir, flushDiskType, ...;
                             see docs/configuration.md); the flags below win over it
  -n, --namesrv <addr>       NameServer addresses "host:port;host:port" (namesrvAddr)
      --port <n>             listen port (listenPort; 0 = any free port)
      --host <addr>          address to listen on (listenHost / bindAddress)
      --data <dir>           storePathRootDir
  -h, --help                 this help`;

/** How each flag is spelled, for the warning when it overrides a different value from the file. */
const flagNames = {
  namesrvAddr: '--namesrv',
  listenPort: '--port',
  listenHost: '--host',
  storePathRootDir: '--data',
} as const;

export async function runBrokerCommand(argv: string[]): Promise<CommandResult> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      namesrv: { type: 'string', short: 'n' },
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    process.stdout.write(`${brokerUsage}\n`);
    return 0;
  }
  const flags: Partial<BrokerConfig> = {};
  if (values.namesrv !== undefined) flags.namesrvAddr = values.namesrv;
  if (values.data !== undefined) flags.storePathRootDir = resolve(values.data);
  if (values.host !== undefined) flags.listenHost = values.host;
  const port = portFlag('--port', values.port);
  if (port !== undefined) flags.listenPort = port;
  const log = createLogger('cli');
  const { loadBrokerConfig } = await import('../broker/config.js');
  const { logConfigWarnings, startBroker } = await import('../broker/main.js');
  // A refused key (ConfigError) ends here with exit code 2, before anything listens.
  const loaded = await loadBrokerConfig({ file: values.config, flags, flagNames });
  logConfigWarnings(loaded.warnings, log);
  const running: Component[] = [];
  exitOnSignals(running, log);
  const broker = await startBroker(loaded);
  running.push({ name: 'broker', close: () => broker.close() });
  log.info('broker serving', { port: broker.port, brokerAddr: broker.brokerAddr });
  sayHowToStop(log);
  return 'running';
}
