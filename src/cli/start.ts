/**
 * `tsrocket start [--data DIR] [-c broker.conf]`: the whole system in one process with zero config (what
 * `npm start` runs). Broker settings: built-in defaults < start's own (embedded NameServer, <data>/broker) <
 * broker.conf < explicit flags; a flag overriding a different file value is warned.
 * Today: NameServer on 9876, Broker (DefaultCluster / broker-a) on 10911 and its gRPC endpoint on 8081; with
 * `--brokers N`, N broker processes of one cluster (broker-group.ts). Components are started in order by
 * `startComponents`; proxy, console and metrics are added there, each as one `Component`, and closed in reverse
 * order on SIGINT/SIGTERM.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, type Logger } from '../common/log.js';
import { NameServer } from '../namesrv/namesrv.js';
import { splitNodeFlags } from '../remoting/node-flags.js';
import { BrokerGroup } from './broker-group.js';
import { portFlag, sayHowToStop } from './flags.js';
import { type CommandResult, type Component, closeAll, exitOnSignals } from './lifecycle.js';
import { relaunchWithNodeFlags } from './relaunch.js';
import {
  brokersFlag,
  loadStartBrokerConfig,
  makeMember,
  registerWithEmbedded,
  type StartBrokerInput,
} from './start-config.js';

export const startUsage = `usage: tsrocket start [options]

  Starts every component in one process: NameServer, Broker and its gRPC endpoint (console is coming).

      --data <dir>          data directory (default ./data), created if missing; the broker's store goes to
                            <dir>/broker unless broker.conf sets storePathRootDir (an explicit --data wins)
      --namesrv-port <n>    NameServer port (default 9876; 0 = any free port)
      --broker-port <n>     Broker port (default 10911, or listenPort of broker.conf; 0 = any free port)
      --grpc-port <n>       gRPC endpoint port for RocketMQ 5 clients (default 8081, or grpcServerPort of
                            broker.conf; 0 when --broker-port is 0; 0 = any free port)
      --no-grpc             no gRPC endpoint (enableGrpc=false): RocketMQ 4.x clients only
      --brokers <n>         n broker processes (1-16, default 1) in one cluster, to use n cores: broker-a on
                            the broker port, broker-b on port + 10, …; gRPC port + 1, …; stores in <dir>/broker-a, …
                            (a broker that dies is restarted; one that cannot start stops the whole start)
      --host <addr>         address to listen on (default 0.0.0.0; 127.0.0.1 keeps it on this machine)
  -c, --config <file>       broker.conf (key=value, RocketMQ key names; see docs/configuration.md) for the
                            embedded broker; its keys win over start's defaults, the flags above win over it
  -h, --help                this help`;

export interface StartOptions extends StartBrokerInput {
  namesrvPort: number;
  /** Broker processes of one cluster (--brokers); 1 or undefined = one broker in this process. */
  brokers?: number | undefined;
}

export interface StartedSystem {
  /** In start order; closed in reverse. */
  components: Component[];
  namesrvAddr: string;
  /** The broker's address; with --brokers N, every broker's, comma-separated. */
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
export async function startComponents(
  opts: StartOptions,
  log: Logger,
  onFatal: (why: string) => void = () => undefined,
): Promise<StartedSystem> {
  const [loaded, { logConfigWarnings, startBroker }] = await Promise.all([
    loadStartBrokerConfig(opts),
    import('../broker/main.js'),
  ]);
  logConfigWarnings(loaded.warnings, log);
  const brokers = opts.brokers ?? 1;
  // Checked before anything listens, as a refused key is.
  if (brokers > 1) makeMember(loaded, opts, 0);
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
    if (brokers > 1) {
      // Several broker processes, one cluster: each registers through its IPC channel (broker-group.ts).
      const group = await BrokerGroup.start({
        input: brokerInputOf(opts),
        count: brokers,
        namesrv,
        namesrvAddr,
        namesrvPort: namesrv.port,
        log,
        onFatal,
      });
      started.push(group);
      await namesrv.listen();
      const members = group.members();
      const grpc = members.flatMap((m) => (m.grpcEndpoint === undefined ? [] : [m.grpcEndpoint]));
      return {
        components: started,
        namesrvAddr,
        brokerAddr: members.map((m) => m.brokerAddr).join(','),
        grpcEndpoint: grpc.length === 0 ? undefined : grpc.join(','),
      };
    }
    const local = await registerWithEmbedded(loaded, namesrvAddr, namesrv.port, log);
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

/** The broker part of the start options: what each broker process is started with (JSON). */
function brokerInputOf(opts: StartOptions): StartBrokerInput {
  const { dataDir, dataDirGiven, brokerPort, grpcPort, noGrpc, host, brokerConfigFile } = opts;
  return { dataDir, dataDirGiven, brokerPort, grpcPort, noGrpc, host, brokerConfigFile };
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
      brokers: { type: 'string' },
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
  const brokers = brokersFlag(values.brokers);
  // broker.conf's nodeFlags act only when V8 starts: re-run with them before anything is built (or created).
  const relaunched = await relaunchForConfig(values.config, log);
  if (relaunched !== undefined) return relaunched;
  await mkdir(dataDir, { recursive: true });
  // Handlers first: a signal right after a component's "listening" line must still shut down cleanly.
  const components: Component[] = [];
  const fail = exitOnSignals(components, log);
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
      brokers,
    },
    log,
    fail,
  );
  components.push(...started.components);
  const { namesrvAddr, brokerAddr, grpcEndpoint } = started;
  log.info('tsrocket started', {
    components: components.map((c) => c.name).join(','),
    namesrvAddr,
    brokerAddr,
    ...(brokers > 1 ? { brokers } : {}),
    ...(grpcEndpoint === undefined ? {} : { grpcEndpoint }),
    dataDir,
    startupMs: Math.round(performance.now()),
  });
  sayHowToStop(log);
  return 'running';
}
