/** Package entry: the client SDK. Servers are started with the `tsrocket` command (or their own modules). */

export { ServiceStartError, ServiceStopError } from './broker/services/lifecycle.js';
export * from './client/index.js';
export { ConfigError } from './common/config.js';
export { InvalidArgumentError, TsRocketError } from './common/errors.js';
export { JsonSyntaxError } from './common/json.js';
export type { Logger, LogLevel } from './common/log.js';
export { RecordFormatError } from './common/record.js';
export { type EmbeddedCluster, type EmbeddedOptions, startEmbedded } from './embedded.js';
export {
  RemotingClosedError,
  RemotingConnectError,
  RemotingProtocolError,
  RemotingResponseError,
  RemotingSendError,
  RemotingTimeoutError,
} from './remoting/errors.js';
export { HeaderFieldError } from './remoting/fields.js';
export { StoreLockedError } from './store/dir-lock.js';
export { DurableFileCorruptError } from './store/durable-file.js';
