/**
 * `tsrocket start [--data DIR] [-c broker.conf]`: the whole system in one process with zero config (what
 * `npm start` runs). Broker settings: built-in defaults < start's own (embedded NameServer, <data>/broker) <
 * broker.conf < explicit flags; a flag overriding a different file value is warned.
 * Today: NameServer on 9876, Broker (DefaultCluster / broker-a) on 10911 and its gRPC endpoint on 8081. Components are started in order by
 * `startComponents`; proxy, console and metrics are added there, each as one `Component`, and closed in reverse
 * order on SIGINT/SIGTERM.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, type Logger } from '../common/log.js';
import { NameServer } from '../namesrv/namesrv.js';
import { splitNodeFlags } from '../remoting/node-flags.js';
import { portFlag, sayHowToStop } from './flags.js';
import { type CommandResult, type Component, closeAll, exitOnSignals } from './lifecycle.js';
import { relaunchWithNodeFlags } from './relaunch.js';

export const startUsage = `usage: tsrocket start [options]

  Starts every component in one process: NameServer, Broker and its gRPC endpoint (console is coming).

      --data <dir>          data directory (default ./data), created if missing; the broker's store goes to
                            <dir>/broker unless broker.conf sets storePathRootDir (an explicit --data wins)
      --namesrv-port <n>    NameServer port (default 9876; 0 = any free port)
      --broker-port <n>     Broker port (default 10911, or listenPort of broker.conf; 0 = any free port)
      --grpc-port <n>       gRPC endpoint port for RocketMQ 5 clients (default 8081, or grpcServerPort of
                            broker.conf; 0 when --broker-port is 0; 0 = any free port)
      --no-grpc             no gRPC endpoint (enableGrpc=false): RocketMQ 4.x clients only
      --host <addr>         address to listen on (default 0.0.0.0; 127.0.0.1 keeps it on this machine)
  -c, --config <file>       broker.conf (key=value, RocketMQ key names; see docs/configuration.md) for the
                            embedded broker; its keys win over start's defaults, the flags above win over it
  -h, --help                this help`;

export interface StartOptions {
  /** Absolute data directory; each component keeps its files in a subdirectory. */
  dataDir: string;
  /** --data was given: the broker's store goes under it even when broker.conf sets storePathRootDir. */
  dataDirGiven?: boolean | undefined;
  namesrvPort: number;
  /** Explicit broker port; undefined = listenPort of broker.conf, else 10911. */
  brokerPort?: number | undefined;
  /** Explicit gRPC port; undefined = grpcServerPort of broker.conf, else 8081 (0 when brokerPort is 0). */
  grpcPort?: number | undefined;
  /** --no-grpc: the broker serves no gRPC endpoint. */
  noGrpc?: boolean | undefined;
  /** Explicit listen address of every component; undefined = 0.0.0.0 (the broker: listenHost of broker.conf). */
  host?: string | undefined;
  /** Optional broker.conf for the embedded broker. */
  brokerConfigFile?: string | undefined;
}

export interface StartedSystem {
  /** In start order; closed in reverse. */
  components: Component[];
  namesrvAddr: string;
  brokerAddr: string;
  /** "host:port" of the gRPC endpoint (RocketMQ 5 clients); undefined when enableGrpc is off. */
  grpcEndpoint: string | undefined;
}

const wildcardHosts = new Set(['', '0.0.0.0', '::']);

/**
 * Starts the components of `tsrocket start` in order. The broker's configuration is loaded and checked first,
 * so a refused key stops the start before anything listens.
 * If one fails to start, those already started are closed and the error is rethrown.
 * To add a component: start it after the ones it depends on and push it onto `started`.
 */
export async function startComponents(opts: StartOptions, log: Logger): Promise<StartedSystem> {
  const [{ loadBrokerConfig, namesrvAddrList }, { logConfigWarnings, startBroker }] = await Promise.all([
    import('../broker/config.js'),
    import('../broker/main.js'),
  ]);
  const brokerStore = join(opts.dataDir, 'broker');
  const loaded = await loadBrokerConfig({
    file: opts.brokerConfigFile,
    // SQL92 (with its bitmap index) and the trace topic on by default: RocketMQ ships them off and users trip on it.
    defaults: {
      listenPort: 10911,
      listenHost: '0.0.0.0',
      storePathRootDir: brokerStore,
      enablePropertyFilter: true,
      enableCalcFilterBitMap: true,
      traceTopicEnable: true,
      // RocketMQ 5 clients served too; ephemeral with an ephemeral broker port, so test systems never collide.
      enableGrpc: true,
      grpcServerPort: opts.brokerPort === 0 ? 0 : 8081,
    },
    flags: {
      listenPort: opts.brokerPort,
      grpcServerPort: opts.grpcPort,
      enableGrpc: opts.noGrpc === true ? false : undefined,
      listenHost: opts.host,
      storePathRootDir: opts.dataDirGiven === true ? brokerStore : undefined,
    },
    flagNames: {
      listenPort: '--broker-port',
      grpcServerPort: '--grpc-port',
      enableGrpc: '--no-grpc',
      listenHost: '--host',
      storePathRootDir: '--data',
    },
  });
  logConfigWarnings(loaded.warnings, log);
  const started: Component[] = [];
  try {
    const host = opts.host ?? '0.0.0.0';
    const namesrv = new NameServer({
      listenPort: opts.namesrvPort,
      bindAddress: host,
      kvConfigPath: join(opts.dataDir, 'namesrv', 'kvConfig.json'),
    });
    started.push({ name: 'namesrv', close: () => namesrv.close() });
    // Each port opens when what is behind it serves: the NameServer's registry works in-process first, the broker
    // recovers, listens and registers with it in-process, and only then does the NameServer listen, so a client
    // that connects the moment 9876 accepts gets the broker's routes. Port 0 must be bound to be known.
    await namesrv.prepare();
    if (opts.namesrvPort === 0) await namesrv.listen();
    const namesrvAddr = `${wildcardHosts.has(host) ? '127.0.0.1' : host}:${namesrv.port}`;
    let local = namesrvAddr;
    if (!loaded.fromFile.has('namesrvAddr')) {
      loaded.broker.namesrvAddr = namesrvAddr;
    } else {
      const listed = namesrvAddrList(loaded.broker).find((a) => a.endsWith(`:${namesrv.port}`));
      if (listed !== undefined) local = listed;
      else {
        log.warn('the broker registers with namesrvAddr of the config file, not with the embedded NameServer', {
          namesrvAddr: loaded.broker.namesrvAddr,
          embedded: namesrvAddr,
        });
      }
    }
    const broker = await startBroker(loaded, {
      inProcessNamesrv: { addr: local, invoke: (req) => namesrv.invokeLocal(req) },
    });
    started.push({ name: 'broker', close: () => broker.close() });
    await namesrv.listen();
    // The gRPC endpoint (8081) is a service of the broker, listening a moment after the rest; console (8080) and
    // metrics (5557) come after it.
    const grpcPort = await broker.grpcReady();
    const grpcEndpoint = grpcPort === undefined ? undefined : `${broker.config.brokerIP1}:${grpcPort}`;
    return { components: started, namesrvAddr, brokerAddr: broker.brokerAddr, grpcEndpoint };
  } catch (err) {
    await closeAll(started, log);
    throw err;
  }
}

/** relaunchWithNodeFlags for the nodeFlags of broker.conf (none without one: the defaults set none). */
async function relaunchForConfig(file: string | undefined, log: Logger): Promise<CommandResult | undefined> {
  if (file === undefined) return relaunchWithNodeFlags([], log);
  const { loadBrokerConfig } = await import('../broker/config.js');
  const { broker } = await loadBrokerConfig({ file });
  return relaunchWithNodeFlags(splitNodeFlags(broker.nodeFlags), log);
}

export async function runStart(argv: string[]): Promise<CommandResult> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      'namesrv-port': { type: 'string' },
      'broker-port': { type: 'string' },
      'grpc-port': { type: 'string' },
      'no-grpc': { type: 'boolean' },
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
  const namesrvPort = portFlag('--namesrv-port', values['namesrv-port']) ?? 9876;
  const brokerPort = portFlag('--broker-port', values['broker-port']);
  const grpcPort = portFlag('--grpc-port', values['grpc-port']);
  // broker.conf's nodeFlags act only when V8 starts: re-run with them before anything is built (or created).
  const relaunched = await relaunchForConfig(values.config, log);
  if (relaunched !== undefined) return relaunched;
  await mkdir(dataDir, { recursive: true });
  // Handlers first: a signal right after a component's "listening" line must still shut down cleanly.
  const components: Component[] = [];
  exitOnSignals(components, log);
  const started = await startComponents(
    {
      dataDir,
      dataDirGiven: values.data !== undefined,
      namesrvPort,
      brokerPort,
      grpcPort,
      noGrpc: values['no-grpc'],
      host: values.host,
      brokerConfigFile: values.config,
    },
    log,
  );
  components.push(...started.components);
  const { namesrvAddr, brokerAddr, grpcEndpoint } = started;
  log.info('tsrocket started', {
    components: components.map((c) => c.name).join(','),
    namesrvAddr,
    brokerAddr,
    ...(grpcEndpoint === undefined ? {} : { grpcEndpoint }),
    dataDir,
    startupMs: Math.round(performance.now()),
  });
  sayHowToStop(log);
  return 'running';
}
