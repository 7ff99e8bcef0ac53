/** Package entry: the client SDK. Servers are started with the `tsrocket` command (or their own modules). */
export * from './client/index.js';
