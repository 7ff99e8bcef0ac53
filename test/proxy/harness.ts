/**
 * A NameServer + Broker with the gRPC endpoint, all in this process on ephemeral loopback ports, for the
 * gRPC tests: `endpoints` is what Apache's 5.x clients take.
 */
import type { BrokerConfig } from '../../src/broker/config.js';
import { startEmbedded } from '../../src/embedded.js';
import type { StoreConfig } from '../../src/store/config.js';

export interface GrpcHarness {
  /** "127.0.0.1:<grpcPort>". */
  endpoints: string;
  namesrvAddr: string;
  brokerAddr: string;
  stop(): Promise<void>;
}

export async function startGrpcHarness(
  brokerConfig: Partial<BrokerConfig> = {},
  storeConfig: Partial<StoreConfig> = {},
): Promise<GrpcHarness> {
  const mq = await startEmbedded({
    brokerConfig: { enableGrpc: true, grpcServerPort: 0, ...brokerConfig },
    storeConfig: { mappedFileSizeCommitLog: 4 * 1024 * 1024, ...storeConfig },
  });
  if (mq.grpcEndpoint === undefined) throw new Error('the broker did not start its gRPC endpoint');
  return { endpoints: mq.grpcEndpoint, namesrvAddr: mq.nameServer, brokerAddr: mq.brokerAddr, stop: () => mq.close() };
}
