/**
 * The trace hooks of one producer or push consumer (RocketMQ's SendMessageTraceHookImpl,
 * EndTransactionTraceHookImpl and ConsumeMessageTraceHookImpl): each builds a record and hands it to the
 * dispatcher; none waits or throws into the traced call.
 */
import { keySeparator, Prop } from '../../common/properties.js';
import { traceProducerGroupPrefix } from '../../common/topics.js';
import type { SendStatus } from '../client-api.js';
import { ConsumeResult, type MessageHandler } from '../consume-service.js';
import type { Message } from '../message.js';
import { createUniqId } from '../msg-id.js';
import type { ReceivedMessage } from '../received-message.js';
import type { SendResult } from '../send-result.js';
import { type ResolvedTraceOptions, TraceDispatcher } from './dispatcher.js';
import { ConsumeContextCode, TraceMsgType, TraceType } from './trace-data.js';

/** RocketMQ's default regionId, used when the trace has no region of its own. */
export const traceRegionDefault = 'DefaultRegion';
/** How long closing a tracer waits for queued records to leave (ms). */
export const traceCloseWaitMs = 3000;

const sendOk: SendStatus = 'SEND_OK';

function keysText(keys: Message['keys']): string | undefined {
  if (keys === undefined) return undefined;
  const joined = typeof keys === 'string' ? keys : keys.join(keySeparator);
  return joined === '' ? undefined : joined;
}

function msgTypeOf(msg: Message): number {
  if (msg.properties?.[Prop.transactionPrepared] === 'true') return TraceMsgType.transHalf;
  if (msg.delayTimeLevel !== undefined && msg.delayTimeLevel > 0) return TraceMsgType.delay;
  return TraceMsgType.normal;
}

export class Tracer {
  private wrapped: { of: MessageHandler; fn: MessageHandler } | undefined;

  constructor(
    readonly dispatcher: TraceDispatcher,
    private readonly group: string,
    private readonly clientHost: string,
    /** The master address of a broker name (the store host of a send). */
    private readonly storeHostOf: (brokerName: string) => string | undefined,
    /** Stops the tracer's own producer. */
    private readonly stopProducer: () => Promise<void>,
  ) {}

  /** A Pub record per message of a finished send that began at `startedMs` (a batch: one per member). */
  sent(msgs: readonly Message[], r: SendResult, startedMs: number): void {
    const costMs = Date.now() - startedMs;
    const ids = r.msgId.split(',');
    const offsetIds = r.offsetMsgId.split(',');
    const storeHost = this.storeHostOf(r.messageQueue.brokerName) ?? '';
    msgs.forEach((msg, i) => {
      this.dispatcher.add({
        type: TraceType.Pub,
        timestampMs: startedMs,
        regionId: traceRegionDefault,
        groupName: this.group,
        topic: msg.topic,
        msgId: ids[i] ?? '',
        tags: msg.tags,
        keys: keysText(msg.keys),
        storeHost,
        bodyLength: typeof msg.body === 'string' ? Buffer.byteLength(msg.body) : msg.body.length,
        costMs,
        msgType: msgTypeOf(msg),
        offsetMsgId: offsetIds[i] ?? '',
        success: r.status === sendOk,
        clientHost: this.clientHost,
      });
    });
  }

  /** An EndTransaction record after END_TRANSACTION was sent for `r`'s half message. */
  endTransaction(msg: Message, r: SendResult, state: string): void {
    this.dispatcher.add({
      type: TraceType.EndTransaction,
      timestampMs: Date.now(),
      regionId: traceRegionDefault,
      groupName: this.group,
      topic: msg.topic,
      msgId: r.msgId,
      tags: msg.tags,
      keys: keysText(msg.keys),
      storeHost: this.storeHostOf(r.messageQueue.brokerName) ?? '',
      msgType: TraceMsgType.transCommit,
      transactionId: r.transactionId ?? r.msgId,
      transactionState: state,
      fromTransactionCheck: false,
    });
  }

  /** `handler` with a SubBefore record before each call and a SubAfter record after it (same wrapper per handler). */
  wrap(handler: MessageHandler): MessageHandler {
    if (this.wrapped?.of === handler) return this.wrapped.fn;
    const fn: MessageHandler = async (msg) => {
      // The trace topic's own messages and messages sent with TRACE_ON=false are not traced (as RocketMQ).
      if (msg.topic === this.dispatcher.opts.topic || msg.properties.get(Prop.traceSwitch) === 'false') {
        return handler(msg);
      }
      const startedMs = Date.now();
      const requestId = createUniqId(startedMs);
      const keys = keysText(msg.keys);
      this.dispatcher.add({
        type: TraceType.SubBefore,
        timestampMs: startedMs,
        regionId: msg.properties.get(Prop.msgRegion) ?? traceRegionDefault,
        groupName: this.group,
        requestId,
        msgId: msg.msgId,
        retryTimes: msg.reconsumeTimes,
        keys,
        clientHost: this.clientHost,
      });
      let code: ConsumeContextCode = ConsumeContextCode.SUCCESS;
      try {
        const result = await handler(msg);
        if (result === ConsumeResult.RECONSUME_LATER) code = ConsumeContextCode.FAILED;
        return result;
      } catch (err) {
        code = ConsumeContextCode.EXCEPTION;
        throw err;
      } finally {
        this.after(msg, requestId, keys, startedMs, code);
      }
    };
    this.wrapped = { of: handler, fn };
    return fn;
  }

  private after(msg: ReceivedMessage, requestId: string, keys: string | undefined, startedMs: number, code: number) {
    const endedMs = Date.now();
    this.dispatcher.add({
      type: TraceType.SubAfter,
      requestId,
      msgId: msg.msgId,
      costMs: endedMs - startedMs,
      success: code === ConsumeContextCode.SUCCESS,
      keys,
      contextCode: code,
      timestampMs: endedMs,
      groupName: this.group,
    });
  }

  /** Sends what is queued (briefly), then stops the tracer's producer. */
  async close(): Promise<void> {
    await this.dispatcher.close(traceCloseWaitMs);
    await this.stopProducer();
  }
}

/** What a tracer needs of its own producer. */
export interface TraceProducer {
  start(): Promise<void>;
  send(msg: Message): Promise<unknown>;
  shutdown(): Promise<void>;
}

/** Starts `producer` and returns a tracer writing through it. */
export async function startTracer(
  opts: ResolvedTraceOptions,
  group: string,
  clientHost: string,
  storeHostOf: (brokerName: string) => string | undefined,
  producer: TraceProducer,
): Promise<Tracer> {
  await producer.start();
  const dispatcher = new TraceDispatcher(opts, (msg) => producer.send(msg));
  return new Tracer(dispatcher, group, clientHost, storeHostOf, () => producer.shutdown());
}

/** The group of the producer that sends the traces of `group`. */
export function traceProducerGroupOf(group: string): string {
  return traceProducerGroupPrefix + group;
}
