/**
 * A push handler's return type is checked at compile time: the `@ts-expect-error` lines below make `npm run build`
 * fail if a misspelt status or an unrelated value ever compiles again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConsumeResult, type MessageHandler, PushConsumer } from '../../src/index.js';

const consumer = new PushConsumer({ nameServer: '127.0.0.1:9876', group: 'GID_types' });

export const accepted: MessageHandler[] = [
  () => {},
  async () => {},
  () => ConsumeResult.CONSUME_SUCCESS,
  (msg) => console.log(msg.msgId),
  () => 'RECONSUME_LATER',
  async () => ConsumeResult.RECONSUME_LATER,
  async (msg) => (msg.reconsumeTimes > 3 ? 'CONSUME_SUCCESS' : 'RECONSUME_LATER'),
];

export function misspelt(): void {
  // @ts-expect-error a misspelt status does not compile
  consumer.onMessage(() => 'CONSUME_SUCESS');
  // @ts-expect-error nor does a misspelt status resolved by an async handler
  consumer.onMessage(async () => 'RECONSUME_LATTER');
  // @ts-expect-error nor a value that is not a status
  consumer.onMessage(async () => true);
  // @ts-expect-error nor in the constructor options
  new PushConsumer({ nameServer: '127.0.0.1:9876', group: 'GID_types', handler: () => 'SUCCESS' });
}

test('ConsumeResult holds RocketMQ status names, and a valid handler is accepted', () => {
  assert.deepEqual(Object.values(ConsumeResult), ['CONSUME_SUCCESS', 'RECONSUME_LATER']);
  assert.equal(consumer.onMessage(accepted[3] as MessageHandler), consumer);
});
