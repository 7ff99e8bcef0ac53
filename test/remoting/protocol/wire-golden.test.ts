/**
 * Golden request and response headers as they cross the wire: the extFields (names, order, values) and the
 * serialize type of what the client, the admin API and the broker write. Written before the headers moved to
 * src/remoting/protocol, so the move is shown not to change a byte.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Admin } from '../../../src/client/admin/admin.js';
import { ClientApi } from '../../../src/client/client-api.js';
import { encodeProperties } from '../../../src/common/properties.js';
import { createOffsetMsgId } from '../../../src/common/record.js';
import { RemotingClient } from '../../../src/remoting/client.js';
import { createRequest, createResponse, type RemotingCommand, SerializeType } from '../../../src/remoting/command.js';
import { RemotingServer } from '../../../src/remoting/server.js';
import { startHarness } from '../../broker/helpers.js';

let server: RemotingServer;
let addr: string;
const seen: RemotingCommand[] = [];
/** Values that change per run (times, generated ids) are replaced by '*'; names and order stay. */
const volatile = new Set(['g', 'i', 'subVersion', 'endTimestamp']);

function shape(cmd: RemotingCommand | undefined): string {
  assert.ok(cmd !== undefined);
  const ext = cmd.extFields;
  if (ext === undefined) return `${cmd.code}/${cmd.serializeType} -`;
  const parts = Object.entries(ext).map(([k, v]) => `${k}=${volatile.has(k) ? '*' : v}`);
  return `${cmd.code}/${cmd.serializeType} ${parts.join(' ')}`;
}

function body(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

before(async () => {
  server = new RemotingServer({ name: 'fake', port: 0, host: '127.0.0.1' });
  server.registerDefaultProcessor((req) => {
    seen.push(req);
    switch (req.code) {
      case 105:
        return createResponse(
          req,
          0,
          undefined,
          undefined,
          body(
            `{"brokerDatas":[{"brokerAddrs":{0:"${addr}"},"brokerName":"b1","cluster":"C1"}],"queueDatas":[{"brokerName":"b1","perm":6,"readQueueNums":1,"writeQueueNums":1,"topicSysFlag":0}]}`,
          ),
        );
      case 106:
        return createResponse(
          req,
          0,
          undefined,
          undefined,
          body(
            `{"brokerAddrTable":{"b1":{"brokerAddrs":{0:"${addr}"},"brokerName":"b1","cluster":"C1"}},"clusterAddrTable":{"C1":["b1"]}}`,
          ),
        );
      case 310:
      case 320:
        return createResponse(req, 0, undefined, { msgId: 'M', queueId: 0, queueOffset: 5 });
      case 11:
        return createResponse(req, 19, 'none', { nextBeginOffset: 3, minOffset: 0, maxOffset: 3 });
      case 14:
        return createResponse(req, 0, undefined, { offset: 7 });
      case 29:
      case 30:
      case 31:
        return createResponse(req, 0, undefined, { offset: 9 });
      case 38:
        return createResponse(req, 0, undefined, undefined, body('{"consumerIdList":["c1"]}'));
      case 12:
        return createResponse(req, 22, 'none');
      case 202:
        return createResponse(req, 0, undefined, undefined, body('{"offsetTable":{}}'));
      case 208:
        return createResponse(req, 0, undefined, undefined, body('{"offsetTable":{},"consumeTps":0}'));
      default:
        return createResponse(req, 0);
    }
  });
  await server.start();
  addr = `127.0.0.1:${server.port}`;
});

after(async () => {
  await server.close();
});

test('ClientApi requests: V2 send, batch, pull, offsets, clients, send-back', async () => {
  const rc = new RemotingClient();
  const api = new ClientApi(rc, [addr], 3000);
  try {
    seen.length = 0;
    const sendHeader = {
      producerGroup: 'PG',
      topic: 'T',
      queueId: 0,
      sysFlag: 0,
      bornTimestamp: 1700000000000,
      flag: 0,
      properties: encodeProperties({ WAIT: 'true', UNIQ_KEY: 'U1' }),
      reconsumeTimes: 0,
      batch: false,
      brokerName: 'b1',
    };
    const sent = await api.send(addr, sendHeader, body('x'), 3000);
    assert.equal(sent?.offsetMsgId, 'M');
    assert.equal(sent?.queueOffset, 5n);
    await api.send(addr, { ...sendHeader, batch: true, reconsumeTimes: 2, maxReconsumeTimes: 3 }, body('x'), 3000);
    const pulled = await api.pull(
      addr,
      {
        consumerGroup: 'G',
        topic: 'T',
        queueId: 1,
        queueOffset: 2n,
        maxMsgNums: 32,
        sysFlag: 3,
        commitOffset: 1n,
        suspendTimeoutMillis: 15000,
        subscription: '*',
        subVersion: 11,
        expressionType: 'TAG',
      },
      3000,
    );
    assert.equal(pulled.nextBeginOffset, 3n);
    assert.equal(await api.queryConsumerOffset(addr, 'G', 'T', 1), 7n);
    await api.updateConsumerOffset(addr, 'G', 'T', 1, 4n);
    assert.equal(await api.getMaxOffset(addr, 'T', 1), 9n);
    await api.getMinOffset(addr, 'T', 1);
    await api.searchOffset(addr, 'T', 1, 1700000000000);
    assert.deepEqual(await api.getConsumerIds(addr, 'G'), ['c1']);
    await api.unregisterClient(addr, 'cid', 'PG', undefined);
    await api.sendMessageBack(addr, { commitLogOffset: 123n, msgId: 'MID', topic: 'T' }, 'G', 0, 16);
    await api.getTopicRoute('T');
    const json = SerializeType.json;
    const bin = SerializeType.rocketmq;
    assert.deepEqual(seen.map(shape), [
      `310/${bin} a=PG b=T c=TBW102 d=4 e=0 f=0 g=* h=0 i=* j=0 k=false m=false n=b1`,
      `320/${bin} a=PG b=T c=TBW102 d=4 e=0 f=0 g=* h=0 i=* j=2 k=false l=3 m=true n=b1`,
      `11/${bin} consumerGroup=G topic=T queueId=1 queueOffset=2 maxMsgNums=32 sysFlag=3 commitOffset=1 suspendTimeoutMillis=15000 subscription=* subVersion=* expressionType=TAG`,
      `14/${json} consumerGroup=G topic=T queueId=1`,
      `15/${json} consumerGroup=G topic=T queueId=1 commitOffset=4`,
      `30/${json} topic=T queueId=1`,
      `31/${json} topic=T queueId=1`,
      `29/${json} topic=T queueId=1 timestamp=1700000000000`,
      `38/${json} consumerGroup=G`,
      `35/${json} clientID=cid producerGroup=PG`,
      `36/${json} offset=123 group=G delayLevel=0 originMsgId=MID originTopic=T unitMode=false maxReconsumeTimes=16`,
      `105/${json} topic=T`,
    ]);
    // The exact values of the V2 send header (golden extFields).
    assert.deepEqual(seen[0]?.extFields, {
      a: 'PG',
      b: 'T',
      c: 'TBW102',
      d: '4',
      e: '0',
      f: '0',
      g: '1700000000000',
      h: '0',
      i: 'WAIT\u0001true\u0002UNIQ_KEY\u0001U1\u0002',
      j: '0',
      k: 'false',
      m: 'false',
      n: 'b1',
    });
  } finally {
    await rc.close();
  }
});

test('Admin requests: send, pull, query, view, topic and group admin', async () => {
  const admin = new Admin({ nameServer: addr });
  try {
    seen.length = 0;
    await admin.sendMessage('T', 'x', { tags: 'A', keys: 'k1' });
    await admin.pull(addr, 'T', 0, 4, 8);
    await admin.queryMessageByKey('T', 'k1', 5);
    await admin.viewMessageById(createOffsetMsgId(addr, 77n)).catch(() => undefined);
    await admin.createOrUpdateTopic({ brokerAddr: addr }, { topicName: 'T2', readQueueNums: 2, writeQueueNums: 2 });
    await admin.deleteTopic('T2', 'C1');
    await admin.topicStatus('T');
    await admin.consumerProgress('G', 'T');
    await admin.brokerRuntimeInfo(addr).catch(() => undefined);
    const json = SerializeType.json;
    assert.deepEqual(seen.map(shape), [
      `105/${json} topic=T`,
      `310/${json} a=TOOLS_PRODUCER b=T c=TBW102 d=4 e=0 f=0 g=* h=0 i=* j=0 k=false m=false`,
      `11/${json} consumerGroup=TOOLS_CONSUMER topic=T queueId=0 queueOffset=4 maxMsgNums=8 sysFlag=4 commitOffset=0 suspendTimeoutMillis=0 subscription=* subVersion=* expressionType=TAG`,
      `105/${json} topic=T`,
      `12/${json} topic=T key=k1 maxNum=5 beginTimestamp=0 endTimestamp=*`,
      `106/${json} -`,
      `33/${json} offset=77`,
      `17/${json} topic=T2 defaultTopic=TBW102 readQueueNums=2 writeQueueNums=2 perm=6 topicFilterType=SINGLE_TAG topicSysFlag=0 order=false`,
      `106/${json} -`,
      `215/${json} topic=T2`,
      `216/${json} topic=T2 clusterName=C1`,
      `105/${json} topic=T`,
      `202/${json} topic=T`,
      `105/${json} topic=T`,
      `208/${json} consumerGroup=G topic=T`,
      `28/${json} -`,
    ]);
    const props = seen[1]?.extFields?.['i'] ?? '';
    assert.match(props, /^KEYS\u0001k1\u0002TAGS\u0001A\u0002|^UNIQ_KEY\u0001[0-9A-F]{32}\u0002WAIT\u0001true\u0002/);
  } finally {
    await admin.close();
  }
});

test('broker responses: send and pull response header names and order', async () => {
  const h = await startHarness();
  try {
    const props = encodeProperties({ UNIQ_KEY: 'U1' });
    const send = createRequest(
      310,
      { a: 'PG', b: 'GoldenT', c: 'TBW102', d: 4, e: 0, f: 0, g: 1, h: 0, i: props, j: 0, k: false, m: false },
      body('x'),
    );
    const sent = await h.client.invoke(h.addr, send, 3000);
    assert.equal(sent.code, 0, sent.remark);
    const ext = sent.extFields ?? {};
    assert.deepEqual(Object.keys(ext), ['msgId', 'queueId', 'queueOffset', 'MSG_REGION', 'TRACE_ON']);
    assert.match(ext['msgId'] ?? '', /^[0-9A-F]{32}$/);
    assert.equal(ext['queueId'], '0');
    assert.equal(ext['queueOffset'], '0');
    const pullFields = {
      consumerGroup: 'G',
      topic: 'GoldenT',
      queueId: 0,
      queueOffset: 0,
      maxMsgNums: 32,
      sysFlag: 0,
      commitOffset: 0,
      suspendTimeoutMillis: 0,
      subscription: '*',
      subVersion: 0,
    };
    for (const serializeType of [SerializeType.json, SerializeType.rocketmq]) {
      const pull = createRequest(11, pullFields);
      pull.serializeType = serializeType;
      const pulled = await h.client.invoke(h.addr, pull, 3000);
      assert.equal(pulled.code, 0, pulled.remark);
      assert.equal(pulled.serializeType, serializeType);
      assert.deepEqual(pulled.extFields, {
        nextBeginOffset: '1',
        minOffset: '0',
        maxOffset: '1',
        suggestWhichBrokerId: '0',
      });
    }
  } finally {
    await h.close();
  }
});
