/** SimpleConsumer argument checks and handle refusals that need no broker. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  InvalidReceiptHandleError,
  type PoppedMessage,
  SimpleConsumer,
  type SimpleConsumerOptions,
} from '../../src/client/index.js';
import { InvalidArgumentError, TsRocketError } from '../../src/common/errors.js';

const base: SimpleConsumerOptions = { nameServer: '127.0.0.1:9', group: 'cg_simple_args' };

test('options are checked when the consumer is built', () => {
  for (const bad of [
    { group: 'bad group' },
    { awaitDurationMs: -1 },
    { awaitDurationMs: 1.5 },
    { invisibleDurationMs: 999 },
    { invisibleDurationMs: Number.NaN },
    { consumeFromWhere: 'CONSUME_FROM_TIMESTAMP' },
    { subscriptions: { 'bad topic': '*' } },
    { subscriptions: { T: '||' } },
    { subscriptions: { T: { sql: ' ' } } },
  ]) {
    assert.throws(
      () => new SimpleConsumer({ ...base, ...bad } as SimpleConsumerOptions),
      InvalidArgumentError,
      JSON.stringify(bad),
    );
  }
  const ok = new SimpleConsumer({ ...base, awaitDurationMs: 0, subscriptions: { T: 'A || B', U: { sql: 'a > 1' } } });
  assert.deepEqual(
    ok.subscriptions(),
    new Map([
      ['T', 'A || B'],
      ['U', 'a > 1'],
    ]),
  );
});

test('receive() before start, and bad receive arguments, are refused', async () => {
  const c = new SimpleConsumer({ ...base, subscriptions: { T: '*' } });
  await assert.rejects(c.receive(1), (err: unknown) => err instanceof TsRocketError && /not started/.test(String(err)));
  for (const n of [0, 33, 1.5]) await assert.rejects(c.receive(n), InvalidArgumentError);
  await assert.rejects(c.receive(1, 500), /invisibleDurationMs/);
});

test('a malformed receipt handle is refused before anything is sent', async () => {
  const c = new SimpleConsumer({ ...base, subscriptions: { T: '*' } });
  const forged = { topic: 'T', msgId: 'M', receiptHandle: 'not a handle' } as PoppedMessage;
  await assert.rejects(c.ack(forged), InvalidReceiptHandleError);
  await assert.rejects(c.changeInvisibleDuration(forged, 5000), InvalidReceiptHandleError);
  await assert.rejects(c.changeInvisibleDuration(forged, 10), /invisibleDurationMs/);
  await assert.rejects(c.ack({} as PoppedMessage), /returned by receive/);
});
