/** Messages between `tsrocket start --brokers N` and its broker processes (Node IPC, 'advanced' serialization). */
import type { StartBrokerInput } from './start-config.js';

/** The one argument of a broker process. */
export interface BrokerChildArgs {
  input: StartBrokerInput;
  /** Member index: 0 = broker-a. */
  index: number;
  /** The embedded NameServer, as brokers register with it. */
  namesrvAddr: string;
  namesrvPort: number;
}

/** Child → parent: a NameServer request (a whole frame), or "serving and registered". */
export type ChildMessage =
  | { t: 'ns'; id: number; frame: Uint8Array }
  | {
      t: 'ready';
      brokerName: string;
      clusterName: string;
      brokerId: number;
      brokerAddr: string;
      grpcEndpoint: string | undefined;
    };

/** Parent → child: the NameServer's answer to request `id` (a whole frame), or why it failed. */
export type ParentMessage =
  | { t: 'ns-reply'; id: number; frame: Uint8Array }
  | { t: 'ns-error'; id: number; message: string };
