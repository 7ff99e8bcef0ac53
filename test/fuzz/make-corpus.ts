/**
 * Writes the valid seeds of the fuzz corpora (test/fuzz/corpus/<target>/seed-*.hex) from our encoders and from
 * ali-ons' own codec. Run after a format change: `npm run build && node dist/test/fuzz/make-corpus.js`.
 * Crashers (crash-*.hex) are added by hand, one per fix, and never regenerated.
 */
import { createRequire } from 'node:module';
import { encodeBatch } from '../../src/client/batch.js';
import { encodeProperties, Prop } from '../../src/common/properties.js';
import { encodeRecord, type RecordInput } from '../../src/common/record.js';
import { SystemTopic } from '../../src/common/topics.js';
import { encodeFrameParts } from '../../src/remoting/codec.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest, createResponse, type RemotingCommand, SerializeType } from '../../src/remoting/command.js';
import { encodePullHeader } from '../../src/remoting/protocol/pull.js';
import { encodeSendHeader, encodeSendHeaderV2 } from '../../src/remoting/protocol/send.js';
import { writeCorpusEntry } from './harness.js';

const props = encodeProperties({
  [Prop.uniqKey]: '7F00000100002A9F0000000000000001',
  [Prop.tags]: 'TagA',
  [Prop.keys]: 'k1 k2',
});
const sendInput = {
  producerGroup: 'pg',
  topic: 'TopicTest',
  queueId: 1,
  sysFlag: 0,
  bornTimestamp: 1700000000000n,
  flag: 0,
  properties: props,
  reconsumeTimes: 0,
  batch: false,
};
const batch = encodeBatch([
  { topic: 'TopicTest', body: 'one', tags: 'A' },
  { topic: 'TopicTest', body: Buffer.from([0, 1, 2]), keys: ['x', 'y'], properties: { p: 'v' } },
]);

/** One request per broker request family, as our clients and admin API build them. */
function requests(): RemotingCommand[] {
  const reqs: RemotingCommand[] = [
    createRequest(RequestCode.SEND_MESSAGE_V2, encodeSendHeaderV2(sendInput), Buffer.from('hello')),
    createRequest(RequestCode.SEND_MESSAGE, encodeSendHeader(sendInput), Buffer.from('hello')),
    createRequest(RequestCode.SEND_BATCH_MESSAGE, encodeSendHeaderV2({ ...sendInput, batch: true }), batch.body),
    createRequest(
      RequestCode.PULL_MESSAGE,
      encodePullHeader({
        consumerGroup: 'cg',
        topic: 'TopicTest',
        queueId: 0,
        queueOffset: 12n,
        maxMsgNums: 32,
        sysFlag: 2,
        commitOffset: 10n,
        suspendTimeoutMillis: 15000,
        subscription: 'TagA || TagB',
        subVersion: 1700000000000n,
        expressionType: 'TAG',
      }),
    ),
    createRequest(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'cg', topic: 'TopicTest', queueId: 0 }),
    createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, {
      consumerGroup: 'cg',
      topic: 'TopicTest',
      queueId: 0,
      commitOffset: 42,
    }),
    createRequest(RequestCode.GET_MAX_OFFSET, { topic: 'TopicTest', queueId: 3 }),
    createRequest(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { topic: 'TopicTest', queueId: 0, timestamp: 1700000000000 }),
    createRequest(RequestCode.QUERY_MESSAGE, {
      topic: 'TopicTest',
      key: 'k1',
      maxNum: 32,
      beginTimestamp: 0,
      endTimestamp: 1700000000000,
    }),
    createRequest(RequestCode.VIEW_MESSAGE_BY_ID, { offset: 1234 }),
    createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
      offset: 1234,
      group: 'cg',
      delayLevel: 3,
      originMsgId: '7F00000100002A9F00000000000004D2',
      originTopic: 'TopicTest',
      unitMode: false,
      maxReconsumeTimes: 16,
    }),
    createRequest(
      RequestCode.HEART_BEAT,
      undefined,
      Buffer.from(
        JSON.stringify({
          clientID: '127.0.0.1@1',
          consumerDataSet: [
            {
              groupName: 'cg',
              consumeType: 'CONSUME_PASSIVELY',
              messageModel: 'CLUSTERING',
              consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
              subscriptionDataSet: [
                { topic: 'TopicTest', subString: 'TagA', tagsSet: ['TagA'], codeSet: [], subVersion: 1 },
              ],
              unitMode: false,
            },
          ],
          producerDataSet: [{ groupName: 'pg' }],
        }),
      ),
    ),
    createRequest(RequestCode.UNREGISTER_CLIENT, { clientID: '127.0.0.1@1', producerGroup: 'pg' }),
    createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'cg' }),
    createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic: 'TopicTest',
      defaultTopic: SystemTopic.autoCreate,
      readQueueNums: 4,
      writeQueueNums: 4,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
    }),
    createRequest(RequestCode.GET_CONSUME_STATS, { consumerGroup: 'cg', topic: 'TopicTest' }),
    createRequest(RequestCode.GET_BROKER_RUNTIME_INFO),
  ];
  return reqs;
}

function frameOf(cmd: RemotingCommand): Buffer {
  return Buffer.concat(encodeFrameParts(cmd));
}

/** The header bytes of an encoded frame. */
function headerOf(frame: Buffer): Buffer {
  return frame.subarray(8, 8 + (frame.readUInt32BE(4) & 0xffffff));
}

const require = createRequire(import.meta.url);
const AliCommand = require('ali-ons/lib/protocol/command/remoting_command.js') as {
  createRequestCommand(code: number, header: Record<string, unknown>): { body: Buffer | null; encode(): Buffer };
};

function aliFrames(): Buffer[] {
  const send = AliCommand.createRequestCommand(310, {
    a: 'pg',
    b: 'TopicTest',
    d: 4,
    e: 0,
    f: 0,
    g: 1700000000000,
    k: false,
  });
  send.body = Buffer.from('from ali-ons');
  const pull = AliCommand.createRequestCommand(11, {
    consumerGroup: 'cg',
    topic: 'TopicTest',
    queueId: 1,
    queueOffset: 0,
    maxMsgNums: 32,
    sysFlag: 3,
    commitOffset: 0,
    suspendTimeoutMillis: 15000,
    subscription: '*',
    subVersion: 1,
  });
  return [send.encode(), pull.encode()];
}

function records(): Buffer[] {
  const base: RecordInput = {
    topic: 'TopicTest',
    queueId: 1,
    flag: 0,
    body: Buffer.from('hello'),
    properties: props,
    sysFlag: 0,
    bornTimestamp: 1700000000000n,
    bornHost: '127.0.0.1:50000',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
  };
  const one = encodeRecord(base, 0n, 0n, 1700000000001n, '127.0.0.1:10911');
  const empty = encodeRecord({ ...base, body: Buffer.alloc(0), properties: '' }, 1n, 200n, 1n, '10.0.0.1:10911');
  const retry = encodeRecord(
    { ...base, topic: '%RETRY%cg', reconsumeTimes: 3, properties: props + encodeProperties({ [Prop.realTopic]: 'T' }) },
    2n,
    400n,
    2n,
    '127.0.0.1:10911',
  );
  return [one, empty, retry, Buffer.concat([one, empty, retry])];
}

const javaJson = [
  '{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"broker-a","cluster":"DefaultCluster"}',
  '{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:{"brokerOffset":10,"consumerOffset":8,"lastTimestamp":0}},"consumeTps":0.0}',
  '{"topicConfigTable":{"TopicTest":{"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":4},},"dataVersion":{"counter":3,"timestamp":1700000000000}}',
  '[{"a":[1,-2.5e3,true,false,null,"\\u0041\\n"]},{key:"v",$x:1,a.b:2}]',
];

function main(): void {
  const frames = requests().flatMap((req) => [req, { ...req, serializeType: SerializeType.rocketmq }]);
  const resp = createResponse(requests()[0]!, 0, 'ok', { msgId: 'AB', queueId: 1, queueOffset: 42n }, Buffer.from('r'));
  frames.push(resp, { ...resp, serializeType: SerializeType.rocketmq });
  const encoded = [...frames.map(frameOf), ...aliFrames()];
  encoded.forEach((f, i) => {
    writeCorpusEntry('frames', `seed-${String(i).padStart(2, '0')}.hex`, f);
    const type = f.readUInt8(4) === SerializeType.json ? 'json-headers' : 'binary-headers';
    writeCorpusEntry(type, `seed-${String(i).padStart(2, '0')}.hex`, headerOf(f));
  });
  writeCorpusEntry('frames', 'seed-stream.hex', Buffer.concat(encoded.slice(0, 6)));
  for (const [i, r] of records().entries()) writeCorpusEntry('records', `seed-${i}.hex`, r);
  writeCorpusEntry('batch-bodies', 'seed-0.hex', batch.body);
  writeCorpusEntry(
    'batch-bodies',
    'seed-1.hex',
    encodeBatch([
      { topic: 'T', body: 'x'.repeat(100), flag: 7 },
      { topic: 'T', body: 'y' },
    ]).body,
  );
  writeCorpusEntry('properties', 'seed-0.hex', Buffer.from(props));
  writeCorpusEntry('properties', 'seed-1.hex', Buffer.from(`${props}TRAN_MSG\u0001true`));
  writeCorpusEntry('properties', 'seed-2.hex', Buffer.from('\u0001\u0002a\u0001\u0002\u0002b\u0001c\u0001d'));
  for (const [i, j] of javaJson.entries()) writeCorpusEntry('json', `seed-${i}.hex`, Buffer.from(j));
}

main();
