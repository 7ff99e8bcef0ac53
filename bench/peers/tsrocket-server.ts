/**
 * Child process entry: NameServer + Broker bound to 127.0.0.1, like `tsrocket start` but with the bind address
 * and flush mode the harness needs. argv: dataDir namesrvPort brokerPort ASYNC_FLUSH|SYNC_FLUSH.
 * Env TSROCKET_PEERS_STORE (JSON object of StoreConfig keys) overrides store settings for experiments.
 */
import path from 'node:path';
import { runBroker } from '../../src/broker/main.js';
import { setLogLevel } from '../../src/common/log.js';
import { NameServer } from '../../src/namesrv/namesrv.js';
import { FlushDiskType, type StoreConfig } from '../../src/store/config.js';

const [dataDir, namesrvPort, brokerPort, flush] = process.argv.slice(2);
if (dataDir === undefined || brokerPort === undefined) throw new Error('usage: dataDir namesrvPort brokerPort flush');
setLogLevel('warn');
const namesrv = new NameServer({
  listenPort: Number(namesrvPort),
  bindAddress: '127.0.0.1',
  kvConfigPath: path.join(dataDir, 'namesrv', 'kvConfig.json'),
});
await namesrv.start();
const broker = await runBroker(
  {},
  {
    flushDiskType: flush === 'SYNC_FLUSH' ? FlushDiskType.SYNC_FLUSH : FlushDiskType.ASYNC_FLUSH,
    ...(JSON.parse(process.env['TSROCKET_PEERS_STORE'] ?? '{}') as Partial<StoreConfig>),
  },
  {
    namesrvAddr: `127.0.0.1:${namesrvPort}`,
    listenPort: Number(brokerPort),
    listenHost: '127.0.0.1',
    storePathRootDir: path.join(dataDir, 'broker'),
    autoCreateTopicEnable: true,
  },
);
let closing = false;
const close = async () => {
  if (closing) return;
  closing = true;
  await broker.close();
  await namesrv.close();
  process.exit(0);
};
process.on('SIGTERM', close);
process.on('SIGINT', close);
