/**
 * `tsrocket start [--data DIR]`: the whole system in one process with zero config (what `npm start` runs).
 * Today: NameServer on 9876 and Broker (DefaultCluster / broker-a) on 10911. Components are started in order by
 * `startComponents`; proxy, console and metrics are added there, each as one `Component`, and closed in reverse
 * order on SIGINT/SIGTERM.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../common/errors.js';
import { createLogger, type Logger } from '../common/log.js';
import { NameServer } from '../namesrv/namesrv.js';
import { type CommandResult, type Component, closeAll, exitOnSignals } from './lifecycle.js';

export const startUsage = `usage: tsrocket start [options]

  Starts every component in one process: NameServer and Broker (proxy and console are coming).

      --data <dir>          data directory (default ./data), created if missing
      --namesrv-port <n>    NameServer port (default 9876; 0 = any free port)
      --broker-port <n>     Broker port (default 10911; 0 = any free port)
      --host <addr>         address to listen on (default 0.0.0.0; 127.0.0.1 keeps it on this machine)
  -c, --config <file>       broker.conf (key=value, RocketMQ key names) applied to the embedded broker
  -h, --help                this help`;

export interface StartOptions {
  /** Absolute data directory; each component keeps its files in a subdirectory. */
  dataDir: string;
  namesrvPort: number;
  brokerPort: number;
  /** Listen address of every component (default 0.0.0.0). */
  host?: string | undefined;
  /** Optional broker.conf for the embedded broker. */
  brokerConfigFile?: string | undefined;
}

export interface StartedSystem {
  /** In start order; closed in reverse. */
  components: Component[];
  namesrvAddr: string;
  brokerAddr: string;
}

/**
 * Starts the components of `tsrocket start` in order.
 * If one fails to start, those already started are closed and the error is rethrown.
 * To add a component: start it after the ones it depends on and push it onto `started`.
 */
export async function startComponents(opts: StartOptions, log: Logger): Promise<StartedSystem> {
  const started: Component[] = [];
  try {
    const namesrv = new NameServer({
      listenPort: opts.namesrvPort,
      bindAddress: opts.host ?? '0.0.0.0',
      kvConfigPath: join(opts.dataDir, 'namesrv', 'kvConfig.json'),
    });
    await namesrv.start();
    started.push({ name: 'namesrv', close: () => namesrv.close() });
    const namesrvAddr = `127.0.0.1:${namesrv.port}`;

    const { runBroker } = await import('../broker/main.js');
    const broker = await runBroker(
      opts.brokerConfigFile ?? {},
      {},
      {
        namesrvAddr,
        listenPort: opts.brokerPort,
        listenHost: opts.host ?? '0.0.0.0',
        storePathRootDir: join(opts.dataDir, 'broker'),
        autoCreateTopicEnable: true,
      },
    );
    started.push({ name: 'broker', close: () => broker.close() });
    // Then proxy (8081), console (8080) and metrics (5557), which are built on the broker.
    return { components: started, namesrvAddr, brokerAddr: broker.brokerAddr };
  } catch (err) {
    await closeAll(started, log);
    throw err;
  }
}

export async function runStart(argv: string[]): Promise<CommandResult> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      'namesrv-port': { type: 'string' },
      'broker-port': { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    process.stdout.write(`${startUsage}\n`);
    return 0;
  }
  const log = createLogger('cli');
  const dataDir = resolve(values.data ?? 'data');
  await mkdir(dataDir, { recursive: true });
  const namesrvPort = portOption('--namesrv-port', values['namesrv-port'], 9876);
  const brokerPort = portOption('--broker-port', values['broker-port'], 10911);
  // Handlers first: a signal right after a component's "listening" line must still shut down cleanly.
  const components: Component[] = [];
  exitOnSignals(components, log);
  const started = await startComponents(
    { dataDir, namesrvPort, brokerPort, host: values.host, brokerConfigFile: values.config },
    log,
  );
  components.push(...started.components);
  const { namesrvAddr, brokerAddr } = started;
  log.info('tsrocket started', {
    components: components.map((c) => c.name).join(','),
    namesrvAddr,
    brokerAddr,
    dataDir,
    startupMs: Math.round(performance.now()),
  });
  return 'running';
}

function portOption(flag: string, text: string | undefined, fallback: number): number {
  const port = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`${flag}: expected a port number, got "${text}"`);
  }
  return port;
}
