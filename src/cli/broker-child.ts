/**
 * One broker process of `tsrocket start --brokers N` (forked by broker-group.ts with an IPC channel; its one
 * argument is a `BrokerChildArgs` JSON). It registers with the parent's NameServer through the IPC channel, as
 * the in-process broker does through `invokeLocal`, so it is routed before the NameServer's port opens. It stops
 * on SIGTERM, and when the parent is gone (the channel closes), so no broker outlives its `tsrocket start`; SIGINT
 * (a Ctrl+C reaching the process group) is left to the parent.
 */

import { createLogger } from '../common/log.js';
import { decodeFrame, encodeFrameParts } from '../remoting/codec.js';
import type { RemotingCommand } from '../remoting/command.js';
import type { BrokerChildArgs, ChildMessage, ParentMessage } from './broker-ipc.js';
import { loadStartBrokerConfig, makeMember, registerWithEmbedded } from './start-config.js';

const log = createLogger('cli');

/** Registration requests in flight to the parent, by id. */
const pending = new Map<number, { resolve: (c: RemotingCommand) => void; reject: (e: Error) => void }>();
let nextId = 1;

class ParentGoneError extends Error {}

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

function invokeParent(req: RemotingCommand): Promise<RemotingCommand> {
  if (!process.connected) return Promise.reject(new ParentGoneError('tsrocket start is gone'));
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    send({ t: 'ns', id, frame: Buffer.concat(encodeFrameParts(req)) });
  });
}

process.on('message', (raw) => {
  const msg = raw as ParentMessage;
  const p = pending.get(msg.id);
  if (p === undefined) return;
  pending.delete(msg.id);
  if (msg.t === 'ns-reply') p.resolve(decodeFrame(Buffer.from(msg.frame).subarray(4)));
  else p.reject(new Error(msg.message));
});

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as BrokerChildArgs;
  // The parent loaded this configuration first and logged its warnings once.
  const loaded = await loadStartBrokerConfig(args.input);
  makeMember(loaded, args.input, args.index);
  const local = await registerWithEmbedded(loaded, args.namesrvAddr, args.namesrvPort, log);
  const { startBroker } = await import('../broker/main.js');
  let stopping = false;
  let broker: Awaited<ReturnType<typeof startBroker>> | undefined;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info('broker process stopping', { brokerName: loaded.broker.brokerName, why });
    void (async () => {
      let code = 0;
      try {
        await broker?.close();
      } catch (err) {
        code = 1;
        log.error('close failed', { component: 'broker', err });
      }
      for (const p of pending.values()) p.reject(new ParentGoneError('stopping'));
      process.exit(code);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  // A Ctrl+C at the terminal reaches the whole process group: tsrocket start sends SIGTERM to each broker in turn.
  process.on('SIGINT', () => undefined);
  process.on('disconnect', () => stop('tsrocket start is gone'));
  broker = await startBroker(loaded, { inProcessNamesrv: { addr: local, invoke: invokeParent } });
  const grpcPort = await broker.grpcReady();
  send({
    t: 'ready',
    brokerName: broker.config.brokerName,
    clusterName: broker.config.brokerClusterName,
    brokerId: broker.config.brokerId,
    brokerAddr: broker.brokerAddr,
    grpcEndpoint: grpcPort === undefined ? undefined : `${broker.config.brokerIP1}:${grpcPort}`,
  });
}

main().catch((err: unknown) => {
  log.error('broker process failed to start', { err });
  process.exit(1);
});
