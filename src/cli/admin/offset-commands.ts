/** Offset subcommands: rewind a group by time, skip its backlog (mqadmin's names and flags). */
import type { QueueOffset } from '../../client/admin/admin.js';
import { stringOpt, UsageError } from './args.js';
import type { AdminCommand, CommandContext } from './command.js';
import { formatTable, toJson } from './table.js';

const groupOption = { short: 'g', long: 'group', description: 'consumer group', takesValue: true, required: true };
const topicOpt = { short: 't', long: 'topic', description: 'topic name', takesValue: true, required: true };
const forceOption = {
  short: 'f',
  long: 'force',
  description: 'true (default): set every queue; false: only move a queue back',
  takesValue: true,
};

const datePattern = /^(\d{4})-(\d{2})-(\d{2})#(\d{2}):(\d{2}):(\d{2}):(\d{3})$/;

/** mqadmin's -s: `now`, ms since the epoch, or local time `yyyy-MM-dd#HH:mm:ss:SSS`. */
export function parseResetTimestamp(text: string, nowMs = Date.now()): number {
  const s = text.trim();
  if (s === 'now') return nowMs;
  if (/^\d+$/.test(s)) return Number(s);
  const m = datePattern.exec(s);
  if (m !== null) {
    const [y, mo, d, h, mi, sec, ms] = m.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const t = new Date(y, mo - 1, d, h, mi, sec, ms);
    if (t.getMonth() === mo - 1 && t.getDate() === d) return t.getTime();
  }
  throw new UsageError(`-s must be now, ms since the epoch or yyyy-MM-dd#HH:mm:ss:SSS, got '${text}'`);
}

function parseForce(args: CommandContext['args']): boolean {
  const f = stringOpt(args, 'force');
  if (f === undefined) return true;
  if (f === 'true' || f === 'false') return f === 'true';
  throw new UsageError(`-f must be true or false, got '${f}'`);
}

function printOffsets(ctx: CommandContext, what: Record<string, unknown>, offsets: readonly QueueOffset[]): void {
  if (ctx.json) {
    ctx.io.out(toJson({ ...what, offsets: offsets.map((o) => ({ ...o, offset: Number(o.offset) })) }));
    return;
  }
  ctx.io.out(
    formatTable(
      ['#brokerName', '#queueId', '#offset'],
      offsets.map((o) => [o.brokerName, o.queueId, String(o.offset)]),
    ),
  );
}

const resetOffsetByTime: AdminCommand = {
  name: 'resetOffsetByTime',
  summary: "Reset a group's offsets on a topic to a time, while its consumers run.",
  options: [
    groupOption,
    topicOpt,
    {
      short: 's',
      long: 'timestamp',
      description: 'now, ms since the epoch, or yyyy-MM-dd#HH:mm:ss:SSS',
      takesValue: true,
      required: true,
    },
    forceOption,
  ],
  async run(ctx) {
    const group = stringOpt(ctx.args, 'group') as string;
    const topic = stringOpt(ctx.args, 'topic') as string;
    const timestamp = parseResetTimestamp(stringOpt(ctx.args, 'timestamp') as string);
    const force = parseForce(ctx.args);
    const offsets = await ctx.admin.resetOffsetByTime(group, topic, timestamp, force);
    if (!ctx.json) {
      ctx.io.out(`reset consumer offset: group[${group}], topic[${topic}], force[${force}], timestamp[${timestamp}]`);
    }
    printOffsets(ctx, { group, topic, force, timestamp }, offsets);
  },
};

const skipAccumulatedMessage: AdminCommand = {
  name: 'skipAccumulatedMessage',
  summary: "Skip a group's backlog on a topic: its offsets move to the end of every queue.",
  options: [groupOption, topicOpt, forceOption],
  async run(ctx) {
    const group = stringOpt(ctx.args, 'group') as string;
    const topic = stringOpt(ctx.args, 'topic') as string;
    const force = parseForce(ctx.args);
    printOffsets(ctx, { group, topic, force }, await ctx.admin.skipAccumulatedMessage(group, topic, force));
  },
};

export const offsetCommands: AdminCommand[] = [resetOffsetByTime, skipAccumulatedMessage];
