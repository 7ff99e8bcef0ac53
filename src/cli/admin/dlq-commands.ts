/** DLQ subcommands: put dead-lettered messages back to their consumer group. */
import { intOpt, stringOpt, UsageError } from './args.js';
import type { AdminCommand } from './command.js';
import { formatTable, toJson } from './table.js';

const resendMessageFromDLQ: AdminCommand = {
  name: 'resendMessageFromDLQ',
  summary: "Send a group's dead-lettered messages back to its retry topic: one (-i), a range (-s/-e), or all (-a).",
  options: [
    { short: 'g', long: 'consumerGroup', description: 'consumer group', takesValue: true, required: true },
    { short: 'i', long: 'msgId', description: 'client msgId or offsetMsgId of the DLQ message', takesValue: true },
    { short: 'a', long: 'all', description: 'every message of the DLQ (or of -s/-e)', takesValue: false },
    { short: 's', long: 'beginOffset', description: 'first DLQ queue offset (inclusive)', takesValue: true },
    { short: 'e', long: 'endOffset', description: 'last DLQ queue offset (exclusive)', takesValue: true },
    { short: 'b', long: 'brokerName', description: "only this broker's DLQ", takesValue: true },
  ],
  async run({ admin, args, io, json }) {
    const group = stringOpt(args, 'consumerGroup') as string;
    const msgId = stringOpt(args, 'msgId');
    const beginOffset = intOpt(args, 'beginOffset', 0, Number.MAX_SAFE_INTEGER);
    const endOffset = intOpt(args, 'endOffset', 0, Number.MAX_SAFE_INTEGER);
    const brokerName = stringOpt(args, 'brokerName');
    const ranged = beginOffset !== undefined || endOffset !== undefined || brokerName !== undefined;
    if (msgId !== undefined && (ranged || args['all'] === true)) {
      throw new UsageError('give -i msgId alone, or a range (-s/-e/-b) or -a');
    }
    // Resending everything is never the default: a bare command would redeliver the whole DLQ.
    if (msgId === undefined && !ranged && args['all'] !== true) {
      throw new UsageError('say what to resend: -i msgId, -s/-e offsets, or -a for the whole DLQ');
    }
    const resent = await admin.resendFromDlq(
      group,
      msgId !== undefined ? { msgId } : { brokerName, beginOffset, endOffset },
    );
    if (json) {
      io.out(toJson({ group, resent }));
      return;
    }
    io.out(
      formatTable(
        ['#MsgId', '#Topic', '#Broker', '#DLQ Offset', '#Retry OffsetID'],
        resent.map((r) => [r.msgId, r.topic, r.brokerName, r.dlqQueueOffset, r.retryOffsetMsgId]),
      ),
    );
    io.out(`${resent.length} message(s) resent to group ${group}.`);
  },
};

export const dlqCommands: AdminCommand[] = [resendMessageFromDLQ];
