/**
 * gRPC clients in the broker's client registry (RocketMQ's ClientActivity.registerProducer / registerConsumer):
 * a producer under each topic it publishes to (RocketMQ's proxy uses the topic as the producer group, which is
 * also the PGROUP of its transactional messages, so the check pass finds it), a consumer in its group with its
 * subscriptions. Admin tools then list them like remoting clients.
 */
import type { SubscriptionData } from '../../broker/clients/client-manager.js';
import { Registered } from '../../broker/clients/client-manager.js';
import { javaStringHashCode } from '../../common/hash.js';
import type { ProxyContext } from '../context.js';
import { Code, type Settings, type Status, type SubscriptionEntry, status } from '../proto.js';
import { checkGroupResource, checkTopicResource } from '../resources.js';
import { GrpcClientChannel } from './grpc-channel.js';
import type { ClientSession } from './sessions.js';

/** RocketMQ's LanguageCode of 5.x clients in the registry; the version is RocketMQ's V5_0_0 ordinal. */
const language = 'JAVA';
const clientVersion = 413;

function channelOf(session: ClientSession): GrpcClientChannel {
  let ch = session.channel;
  if (ch === undefined || ch.closed) {
    ch = new GrpcClientChannel(session, session.peer);
    session.channel = ch;
  }
  return ch as GrpcClientChannel;
}

/** Registers (or refreshes) the session as its Settings say; a Status when they are refused. */
export function registerSession(ctx: ProxyContext, session: ClientSession, settings: Settings): Status | undefined {
  const clients = ctx.broker.clients;
  const conn = channelOf(session);
  const channel = { clientId: session.clientId, conn, language, version: clientVersion, lastUpdateMs: Date.now() };
  if (settings.publishing != null) {
    for (const topic of settings.publishing.topics) {
      const bad = checkTopicResource(topic);
      if (bad !== undefined) return bad;
    }
    for (const topic of settings.publishing.topics) {
      if (clients.registerProducer(topic.name, channel) === Registered.overLimit) return overLimit();
      session.producerGroups.add(topic.name);
    }
    return undefined;
  }
  const sub = settings.subscription;
  if (sub == null) return status(Code.BAD_REQUEST, 'settings hold neither publishing nor subscription');
  const bad = checkGroupResource(sub.group);
  if (bad !== undefined) return bad;
  const group = (sub.group as { name: string }).name;
  const registered = clients.registerConsumer(
    {
      groupName: group,
      consumeType: settings.clientType === 'SIMPLE_CONSUMER' ? 'CONSUME_ACTIVELY' : 'CONSUME_PASSIVELY',
      messageModel: 'CLUSTERING',
      consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
      subscriptions: sub.subscriptions.map(subscriptionDataOf),
    },
    channel,
  );
  if (registered === Registered.overLimit) return overLimit();
  session.consumerGroup = group;
  return undefined;
}

/** Drops the session's registrations (NotifyClientTermination) and closes its channel. */
export function unregisterSession(ctx: ProxyContext, session: ClientSession): void {
  const clients = ctx.broker.clients;
  for (const g of session.producerGroups) clients.unregisterProducer(g, session.clientId);
  session.producerGroups.clear();
  if (session.consumerGroup !== undefined) clients.unregisterConsumer(session.consumerGroup, session.clientId);
  session.consumerGroup = undefined;
  session.channel?.close();
  session.channel = undefined;
  void ctx.renewals.release(session.clientId);
}

function overLimit(): Status {
  return status(Code.TOO_MANY_REQUESTS, 'too many client registrations (clientRegistrationsPerConnectionMax)');
}

function subscriptionDataOf(e: SubscriptionEntry): SubscriptionData {
  const expression = e.expression?.expression ?? '*';
  const sql = e.expression?.type === 'SQL';
  const tags =
    sql || expression.trim() === '*' || expression.trim() === ''
      ? []
      : expression
          .split('||')
          .map((t) => t.trim())
          .filter((t) => t !== '');
  return {
    topic: e.topic?.name ?? '',
    subString: sql ? expression : tags.length === 0 ? '*' : expression,
    tagsSet: tags,
    codeSet: tags.map(javaStringHashCode),
    subVersion: Date.now(),
    expressionType: sql ? 'SQL92' : 'TAG',
  };
}
