/** The remoting layer: RocketMQ's frame protocol, code tables, TCP server and client. */
export * from './client.js';
export * from './codec.js';
export * from './codes.js';
export * from './command.js';
export * from './errors.js';
export * from './fields.js';
export * from './server.js';
