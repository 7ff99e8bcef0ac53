/**
 * Telemetry (bidirectional stream; RocketMQ's ClientActivity.telemetry): the client sends its Settings, the server
 * answers the merged Settings (settings.ts) and registers the client (registration.ts); the stream then stays
 * open as the server's way to the client (RecoverOrphanedTransactionCommand, client/grpc-channel.ts). Thread
 * stack traces and verify-message results are logged: nothing here asks for them yet.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { clientIdOf, type ProxyContext } from '../context.js';
import { Code, status, type TelemetryCommand } from '../proto.js';
import { registerSession } from './registration.js';
import type { TelemetryChannel } from './sessions.js';
import { settingsReplyOf } from './settings.js';

export function telemetry(ctx: ProxyContext, call: ServerDuplexStream<TelemetryCommand, TelemetryCommand>): void {
  const clientId = clientIdOf(call.metadata);
  const peer = call.getPeer();
  let ended = false;
  const channel: TelemetryChannel = {
    write: (cmd) => (ended ? false : call.write(cmd)),
    end: () => {
      if (!ended) {
        ended = true;
        call.end();
      }
    },
    get closed() {
      return ended;
    },
  };
  const fail = (code: Code, message: string) => {
    channel.write({ status: status(code, message) });
    channel.end();
  };
  if (clientId === '') {
    fail(Code.CLIENT_ID_REQUIRED, 'x-mq-client-id header is required');
    return;
  }
  const detach = () => {
    ended = true;
    const s = ctx.sessions.get(clientId);
    if (s?.telemetry === channel) s.telemetry = undefined;
  };
  call.on('data', (cmd: TelemetryCommand) => {
    const session = ctx.sessions.touch(clientId, peer);
    if (cmd.settings != null) {
      const reply = settingsReplyOf(ctx.broker, cmd.settings);
      if (reply === undefined) {
        fail(Code.BAD_REQUEST, 'there is no publishing or subscription data in settings');
        return;
      }
      const refused = registerSession(ctx, session, cmd.settings);
      if (refused !== undefined) {
        fail(refused.code, refused.message);
        return;
      }
      session.settings = cmd.settings;
      session.clientType = cmd.settings.clientType ?? 'CLIENT_TYPE_UNSPECIFIED';
      // The newest stream is the way to the client; an older one of the same client is left to end by itself.
      session.telemetry = channel;
      channel.write({ status: status(Code.OK), settings: reply });
      return;
    }
    if (cmd.threadStackTrace != null || cmd.verifyMessageResult != null) {
      ctx.log.debug('telemetry report from client', { clientId, command: cmd.command });
      return;
    }
    ctx.log.debug('telemetry command ignored', { clientId, command: cmd.command });
  });
  call.on('end', () => {
    detach();
    call.end();
  });
  call.on('error', detach);
  call.on('cancelled', detach);
}
