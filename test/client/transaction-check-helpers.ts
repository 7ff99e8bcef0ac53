/** Drives the client's CHECK_TRANSACTION_STATE processor with a fake connection and recording checkers. */

import { checkTransactionStateProcessor, type TransactionChecker } from '../../src/client/transaction-check.js';
import { encodeProperties } from '../../src/common/properties.js';
import { encodeRecord } from '../../src/common/record.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/command.js';
import type { CheckTransactionStateRequestHeader } from '../../src/remoting/protocol/transaction.js';
import type { RemotingConnection } from '../../src/remoting/server.js';

export function transactionCheckProcessorFor(groups: string[]) {
  const calls: Array<{ group: string; msgId: string; topic: string; header: CheckTransactionStateRequestHeader }> = [];
  const replies: RemotingCommand[] = [];
  const warnings: string[] = [];
  const checkers = new Map<string, TransactionChecker>();
  for (const group of groups) {
    checkers.set(group, (msg, header, reply) => {
      calls.push({ group, msgId: msg.msgId, topic: msg.topic, header });
      reply({
        producerGroup: group,
        tranStateTableOffset: header.tranStateTableOffset,
        commitLogOffset: header.commitLogOffset,
        commitOrRollback: 8,
        fromTransactionCheck: true,
        msgId: msg.msgId,
      });
    });
  }
  const log = {
    debug() {},
    info() {},
    warn: (m: string) => warnings.push(m),
    error: (m: string) => warnings.push(m),
  };
  const conn = {
    remoteAddress: '127.0.0.1:10911',
    invokeOneway: (req: RemotingCommand) => replies.push(req),
  } as unknown as RemotingConnection;
  const processor = checkTransactionStateProcessor(checkers, log);
  const deliverRaw = (fields: Record<string, string>, body: Buffer | undefined) =>
    processor(createRequest(RequestCode.CHECK_TRANSACTION_STATE, fields, body), conn);
  const deliver = (fields: Record<string, string>, props: Record<string, string>) =>
    deliverRaw(
      fields,
      encodeRecord(
        {
          topic: 'Orders',
          queueId: 1,
          flag: 0,
          body: Buffer.from('b'),
          properties: encodeProperties(props),
          sysFlag: 0,
          bornTimestamp: 1n,
          bornHost: '127.0.0.1:1',
          reconsumeTimes: 0,
          preparedTransactionOffset: 0n,
        },
        7n,
        4096n,
        2n,
        '127.0.0.1:10911',
      ),
    );
  return { calls, replies, warnings, deliver, deliverRaw };
}
