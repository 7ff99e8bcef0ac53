/** `tsrocket broker [-c broker.conf] [-n namesrvAddr] [--port N] [--data DIR]`: a standalone Broker. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BrokerConfig } from '../broker/config.js';
import { InvalidArgumentError } from '../common/errors.js';
import { createLogger } from '../common/log.js';
import { type CommandResult, type Component, exitOnSignals } from './lifecycle.js';

export const brokerUsage = `usage: tsrocket broker [options]

  -c, --config <file>        broker.conf (key=value, RocketMQ key names: brokerClusterName, brokerName,
                             brokerId, listenPort, namesrvAddr, storePathRootDir, flushDiskType, ...)
  -n, --namesrv <addr>       NameServer addresses "host:port;host:port" (overrides namesrvAddr)
      --port <n>             listen port (overrides listenPort; 0 = any free port)
      --data <dir>           storePathRootDir (overrides the file)
  -h, --help                 this help`;

export async function runBrokerCommand(argv: string[]): Promise<CommandResult> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      namesrv: { type: 'string', short: 'n' },
      port: { type: 'string' },
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
  const overrides: Partial<BrokerConfig> = {};
  if (values.namesrv !== undefined) overrides.namesrvAddr = values.namesrv;
  if (values.data !== undefined) overrides.storePathRootDir = resolve(values.data);
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new InvalidArgumentError(`--port: expected a port number, got "${values.port}"`);
    }
    overrides.listenPort = port;
  }
  const log = createLogger('cli');
  const { runBroker } = await import('../broker/main.js');
  const running: Component[] = [];
  exitOnSignals(running, log);
  const broker = await runBroker(values.config ?? {}, {}, overrides);
  running.push({ name: 'broker', close: () => broker.close() });
  log.info('broker serving', { port: broker.port, brokerAddr: broker.brokerAddr });
  return 'running';
}
