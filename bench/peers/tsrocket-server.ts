/**
 * Child process entry: `tsrocket start` bound to 127.0.0.1 with the flush mode the harness needs (through a
 * broker.conf), so each port opens only when it serves: the NameServer's last, once the broker has recovered and
 * registered. argv: dataDir namesrvPort brokerPort ASYNC_FLUSH|SYNC_FLUSH.
 * Env TSROCKET_PEERS_STORE (JSON object of StoreConfig keys) overrides store settings for experiments.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { closeAll } from '../../src/cli/lifecycle.js';
import { startComponents } from '../../src/cli/start.js';
import { createLogger, setLogLevel } from '../../src/common/log.js';

const [dataDir, namesrvPort, brokerPort, flush] = process.argv.slice(2);
if (dataDir === undefined || brokerPort === undefined) throw new Error('usage: dataDir namesrvPort brokerPort flush');
setLogLevel('warn');
const log = createLogger('peers');
const conf: Record<string, unknown> = {
  flushDiskType: flush === 'SYNC_FLUSH' ? 'SYNC_FLUSH' : 'ASYNC_FLUSH',
  autoCreateTopicEnable: true,
  // The gRPC endpoint stays on (as in `tsrocket start`) but on a free port: 8081 may be another broker's.
  grpcServerPort: 0,
  ...(JSON.parse(process.env['TSROCKET_PEERS_STORE'] ?? '{}') as Record<string, unknown>),
};
const confFile = path.join(dataDir, 'broker.conf');
await writeFile(
  confFile,
  `${Object.entries(conf)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n')}\n`,
);
const { components } = await startComponents(
  {
    dataDir,
    namesrvPort: Number(namesrvPort),
    brokerPort: Number(brokerPort),
    host: '127.0.0.1',
    brokerConfigFile: confFile,
  },
  log,
);
let closing = false;
const close = async () => {
  if (closing) return;
  closing = true;
  await closeAll(components, log);
  process.exit(0);
};
process.on('SIGTERM', close);
process.on('SIGINT', close);
