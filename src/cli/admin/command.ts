/** Shape of one `tsrocket admin` subcommand and the options every subcommand shares. */
import type { Admin } from '../../client/admin/admin.js';
import type { OptionSpec, ParsedArgs } from './args.js';

/** Where a subcommand writes; tests capture it. */
export interface AdminIo {
  out(text: string): void;
  err(text: string): void;
}

export interface CommandContext {
  admin: Admin;
  args: ParsedArgs;
  io: AdminIo;
  /** `--json`: print one JSON document with stable keys instead of tables. */
  json: boolean;
}

export interface AdminCommand {
  name: string;
  summary: string;
  /** Subcommand-specific options; the shared ones are added by the runner. */
  options: OptionSpec[];
  run(ctx: CommandContext): Promise<void>;
}

export const commonOptions: OptionSpec[] = [
  {
    short: 'n',
    long: 'namesrvAddr',
    description: 'NameServer list host:port;host:port (env NAMESRV_ADDR, else 127.0.0.1:9876)',
    takesValue: true,
  },
  { short: 'j', long: 'json', description: 'print JSON instead of tables', takesValue: false },
  { short: 'h', long: 'help', description: 'print this help', takesValue: false },
];

export const topicOption = (required: boolean): OptionSpec => ({
  short: 't',
  long: 'topic',
  description: 'topic name',
  takesValue: true,
  required,
});
