/** Package entry: the client SDK. Servers are started with the `tsrocket` command (or their own modules). */
export * from './client/index.js';
export { type EmbeddedCluster, type EmbeddedOptions, startEmbedded } from './embedded.js';
