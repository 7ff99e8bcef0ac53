/** `queryMsgTraceById`: a message's trace timeline (sent, stored, consumed) from the trace topic. */
import type { MessageTrace } from '../../client/admin/trace.js';
import { SystemTopic } from '../../common/topics.js';
import { stringOpt } from './args.js';
import type { AdminCommand } from './command.js';
import { type Cell, formatTable, formatTime, toJson } from './table.js';

/** RocketMQ's MessageType names by ordinal. */
const msgTypeNames = ['Normal_Msg', 'Trans_Msg_Half', 'Trans_msg_Commit', 'Delay_Msg'] as const;
/** RocketMQ's ConsumeReturnType names by ordinal. */
const contextNames = ['SUCCESS', 'TIME_OUT', 'EXCEPTION', 'RETURNNULL', 'FAILED'] as const;

const status = (ok: boolean | undefined): string => (ok === undefined ? 'unknown' : ok ? 'success' : 'failed');

/** One row per step, oldest first: sent, stored, end of transaction, each consumption. */
export function formatTrace(t: MessageTrace): string {
  const rows: Array<{ at: number; cells: Cell[] }> = [];
  for (const s of t.sends) {
    const detail = `topic=${s.topic} storeHost=${s.storeHost} type=${msgTypeNames[s.msgType] ?? s.msgType}`;
    rows.push({
      at: s.sendTimeMs,
      cells: ['sent', s.producerGroup, s.clientHost, formatTime(s.sendTimeMs), s.costMs, status(s.success), detail],
    });
  }
  if (t.storeTimeMs !== undefined) {
    rows.push({ at: t.storeTimeMs, cells: ['stored', '', '', formatTime(t.storeTimeMs), undefined, '', ''] });
  }
  for (const e of t.endTransactions) {
    const detail = `${e.transactionState}${e.fromTransactionCheck ? ' (check)' : ''} tx=${e.transactionId}`;
    rows.push({
      at: e.timeMs,
      cells: ['endTransaction', e.producerGroup, '', formatTime(e.timeMs), undefined, '', detail],
    });
  }
  for (const c of t.consumes) {
    const code = c.contextCode === undefined ? '' : ` ${contextNames[c.contextCode] ?? c.contextCode}`;
    rows.push({
      at: c.consumeTimeMs,
      cells: [
        'consumed',
        c.consumerGroup,
        c.clientHost,
        formatTime(c.consumeTimeMs),
        c.costMs,
        status(c.success),
        `retryTimes=${c.retryTimes}${code}`,
      ],
    });
  }
  // Stable: equal times keep the order above (sent before stored before consumed).
  rows.sort((a, b) => a.at - b.at);
  return formatTable(
    ['#Step', '#Group', '#ClientHost', '#Time', '#CostMs', '#Status', '#Detail'],
    rows.map((r) => r.cells),
  );
}

const queryMsgTraceById: AdminCommand = {
  name: 'queryMsgTraceById',
  summary: 'Print the trace of a message (sent, stored, consumed) from the trace topic.',
  options: [
    { short: 'i', long: 'msgId', description: 'client msgId (UNIQ_KEY)', takesValue: true, required: true },
    {
      short: 't',
      long: 'traceTopic',
      description: `trace topic (default ${SystemTopic.trace})`,
      takesValue: true,
    },
  ],
  async run({ admin, args, io, json }) {
    const msgId = stringOpt(args, 'msgId') as string;
    const traceTopic = stringOpt(args, 'traceTopic');
    const trace = await admin.queryMsgTraceById(msgId, ...(traceTopic === undefined ? [] : [traceTopic]));
    if (json) io.out(toJson(trace));
    else if (trace.sends.length + trace.consumes.length + trace.endTransactions.length === 0) {
      io.out(`no trace found for ${msgId} in ${trace.traceTopic}`);
    } else io.out(formatTrace(trace));
    if (!json && trace.undecodable > 0) io.err(`${trace.undecodable} trace record(s) could not be decoded`);
  },
};

export const traceCommands: AdminCommand[] = [queryMsgTraceById];
