/** `tsrocket broker [-c broker.conf] [-n namesrvAddr] [--port N] [--host ADDR] [--data DIR]`: a standalone Broker. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BrokerConfig } from '../broker/config.js';
import { createLogger } from '../common/log.js';
import { splitNodeFlags } from '../remoting/node-flags.js';
import { portFlag, sayHowToStop } from './flags.js';
import { type CommandResult, type Component, exitOnSignals } from './lifecycle.js';
import { relaunchWithNodeFlags } from './relaunch.js';

export const brokerUsage = `usage: tsrocket broker [options]

  -c, --config <file>        broker.conf (key=value, RocketMQ key names: brokerClusterName, brokerName,
                             listenPort, namesrvAddr, brokerIP1, storePathRootDir, flushDiskType, ...;
                             see docs/configuration.md); the flags below win over it
  -n, --namesrv <addr>       NameServer addresses "host:port;host:port" (namesrvAddr)
      --port <n>             listen port (listenPort; 0 = any free port)
      --grpc-port <n>        gRPC endpoint port (grpcServerPort; default 8081, 0 when --port is 0)
      --no-grpc              no gRPC endpoint (enableGrpc=false)
      --host <addr>          address to listen on (listenHost / bindAddress)
      --data <dir>           storePathRootDir
  -h, --help                 this help`;

/** How each flag is spelled, for the warning when it overrides a different value from the file. */
const flagNames = {
  namesrvAddr: '--namesrv',
  listenPort: '--port',
  grpcServerPort: '--grpc-port',
  enableGrpc: '--no-grpc',
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
      'grpc-port': { type: 'string' },
      'no-grpc': { type: 'boolean' },
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
  const grpcPort = portFlag('--grpc-port', values['grpc-port']);
  if (grpcPort !== undefined) flags.grpcServerPort = grpcPort;
  if (values['no-grpc'] === true) flags.enableGrpc = false;
  const log = createLogger('cli');
  const { loadBrokerConfig } = await import('../broker/config.js');
  const { logConfigWarnings, startBroker } = await import('../broker/main.js');
  // A refused key (ConfigError) ends here with exit code 2, before anything listens.
  // The gRPC endpoint on by default; ephemeral with an ephemeral broker port, so test brokers never collide.
  const defaults: Partial<BrokerConfig> = { enableGrpc: true, grpcServerPort: port === 0 ? 0 : 8081 };
  const loaded = await loadBrokerConfig({ file: values.config, defaults, flags, flagNames });
  // Collector flags act only when V8 starts: re-run with them before anything is built.
  const relaunched = relaunchWithNodeFlags(splitNodeFlags(loaded.broker.nodeFlags), log);
  if (relaunched !== undefined) return relaunched;
  logConfigWarnings(loaded.warnings, log);
  const running: Component[] = [];
  exitOnSignals(running, log);
  const broker = await startBroker(loaded);
  running.push({ name: 'broker', close: () => broker.close() });
  log.info('broker serving', { port: broker.port, brokerAddr: broker.brokerAddr });
  // The gRPC endpoint comes up a moment later (its own "gRPC endpoint listening" line, or an error).
  sayHowToStop(log);
  return 'running';
}
