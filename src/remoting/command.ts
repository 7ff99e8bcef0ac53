/**
 * RemotingCommand: the unit of RocketMQ's remoting protocol (one frame).
 * Header fields are RocketMQ's; `extFields` values are always strings once decoded.
 */
export const SerializeType = { json: 0, rocketmq: 1 } as const;
export type SerializeType = (typeof SerializeType)[keyof typeof SerializeType];

/** Flag bits. */
export const Flag = { response: 1, oneway: 2 } as const;

/** Language codes as RocketMQ names them (LanguageCode). */
export const languageCodes = [
  'JAVA',
  'CPP',
  'DOTNET',
  'PYTHON',
  'DELPHI',
  'ERLANG',
  'RUBY',
  'OTHER',
  'HTTP',
  'GO',
  'PHP',
  'OMS',
  'RUST',
  'NODE_JS',
] as const;

export interface RemotingCommand {
  code: number;
  language: string;
  version: number;
  opaque: number;
  flag: number;
  remark?: string | undefined;
  extFields?: Record<string, string> | undefined;
  /**
   * Names of extFields whose values the sender knows to be printable ASCII (0x20–0x7e) without `"` or `\`: the
   * encoders write them as they are, without measuring or escaping them (a batch answer's ~2 KiB offsetMsgIds).
   */
  plainFields?: ReadonlySet<string> | undefined;
  /** Serialize type the frame used (and that a response must use). */
  serializeType: SerializeType;
  body?: Buffer | undefined;
  /** Body as slices written in order, instead of `body` (large PULL responses are not copied into one buffer). */
  bodyParts?: readonly Buffer[] | undefined;
  /**
   * Called once when a sent frame's bytes are with the kernel, or will never be sent (connection closed, encode
   * failed): after it, the buffers `body` and `bodyParts` point into may be reused.
   */
  onWritten?: (() => void) | undefined;
}

export const ourVersion = 453; // V4_9_4 in RocketMQ's MQVersion numbering
export const ourLanguage = 'JAVA';

let nextOpaque = 0;
/** Request ids are unique per process; they wrap at int32. */
export function newOpaque(): number {
  nextOpaque = (nextOpaque + 1) | 0;
  return nextOpaque;
}

export function isResponse(cmd: RemotingCommand): boolean {
  return (cmd.flag & Flag.response) !== 0;
}

export function isOneway(cmd: RemotingCommand): boolean {
  return (cmd.flag & Flag.oneway) !== 0;
}

/** A request with a fresh opaque. */
export function createRequest(
  code: number,
  extFields?: Record<string, string | number | boolean | bigint | undefined>,
  body?: Buffer,
): RemotingCommand {
  return {
    code,
    language: ourLanguage,
    version: ourVersion,
    opaque: newOpaque(),
    flag: 0,
    extFields: extFields === undefined ? undefined : stringifyFields(extFields),
    serializeType: SerializeType.json,
    body,
  };
}

/** A response to `request`: same opaque and serialize type, response flag set. */
export function createResponse(
  request: RemotingCommand,
  code: number,
  remark?: string,
  extFields?: Record<string, string | number | boolean | bigint | undefined>,
  body?: Buffer,
): RemotingCommand {
  return {
    code,
    language: ourLanguage,
    version: ourVersion,
    opaque: request.opaque,
    flag: Flag.response,
    remark,
    extFields: extFields === undefined ? undefined : stringifyFields(extFields),
    serializeType: request.serializeType,
    body,
  };
}

function stringifyFields(
  fields: Record<string, string | number | boolean | bigint | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) out[k] = String(v);
  }
  return out;
}
