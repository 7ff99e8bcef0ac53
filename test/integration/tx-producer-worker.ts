/**
 * A transactional producer in its own process for integration tests. Argument: TxWorkerConfig as JSON.
 * Each message carries its intended outcome in the user property `outcome` (commit | rollback | never): the
 * "local database" both executeLocal and checkLocal read. Sends them all at once and prints
 * {"t":"prepared","id","outcome"} when executeLocal starts, {"t":"sent","id","outcome","state"} when a send
 * returns, {"t":"check","id","answer"} for each check-back it answers, {"t":"started"} / {"t":"done"}.
 * execute: "decide" answers the outcome (never → UNKNOWN), "unknown" answers UNKNOWN, "hang" never answers.
 */
import { TransactionProducer, TransactionState } from '../../src/client/transaction-producer.js';

export interface TxWorkerConfig {
  nameServer: string;
  topic: string;
  group: string;
  outcomes: Array<'commit' | 'rollback' | 'never'>;
  execute: 'decide' | 'unknown' | 'hang';
}

const config = JSON.parse(process.argv[2] ?? '{}') as TxWorkerConfig;
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
const stateOf = (outcome: string | undefined): TransactionState =>
  outcome === 'commit'
    ? TransactionState.COMMIT
    : outcome === 'rollback'
      ? TransactionState.ROLLBACK
      : TransactionState.UNKNOWN;

const producer = new TransactionProducer({
  nameServer: config.nameServer,
  group: config.group,
  clientIp: '127.0.0.1',
  heartbeatIntervalMs: 1000,
  pollNameServerIntervalMs: 1000,
  executeLocal: (msg) => {
    const outcome = msg.properties?.['outcome'];
    emit({ t: 'prepared', id: msg.properties?.['id'], outcome });
    if (config.execute === 'hang') return new Promise<TransactionState>(() => undefined);
    return config.execute === 'unknown' ? TransactionState.UNKNOWN : stateOf(outcome);
  },
  checkLocal: (msg) => {
    const answer = stateOf(msg.properties.get('outcome'));
    emit({ t: 'check', id: msg.properties.get('id'), uniq: msg.msgId, answer });
    return answer;
  },
});
await producer.start();
emit({ t: 'started' });
await Promise.all(
  config.outcomes.map(async (outcome, i) => {
    const id = `${process.pid}-${i}-${outcome}`;
    const r = await producer.send({ topic: config.topic, body: id, properties: { outcome, id } });
    emit({ t: 'sent', id, uniq: r.sendResult.msgId, outcome, state: r.state });
  }),
);
emit({ t: 'done' });
process.once('SIGTERM', () => {
  producer.shutdown().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
