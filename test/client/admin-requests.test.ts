import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Admin } from '../../src/client/admin/admin.js';
import { createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import { RemotingServer } from '../../src/remoting/server.js';

// One fake server plays NameServer and broker master, recording what the Admin sends.
let server: RemotingServer;
let addr: string;
const seen: RemotingCommand[] = [];

function json(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

before(async () => {
  server = new RemotingServer({ name: 'fake', port: 0, host: '127.0.0.1' });
  server.registerDefaultProcessor((req) => {
    seen.push(req);
    switch (req.code) {
      case 106:
        return createResponse(
          req,
          0,
          undefined,
          undefined,
          json(
            `{"brokerAddrTable":{"b1":{"brokerAddrs":{0:"${addr}"},"brokerName":"b1","cluster":"C1"}},"clusterAddrTable":{"C1":["b1"]}}`,
          ),
        );
      case 105:
        if (req.extFields?.['topic'] !== 'T')
          return createResponse(
            req,
            17,
            `No topic route info in name server for the topic: ${req.extFields?.['topic']}`,
          );
        return createResponse(
          req,
          0,
          undefined,
          undefined,
          json(
            `{"brokerDatas":[{"brokerAddrs":{0:"${addr}"},"brokerName":"b1","cluster":"C1"}],"queueDatas":[{"brokerName":"b1","perm":6,"readQueueNums":2,"writeQueueNums":2,"topicSysFlag":0}]}`,
          ),
        );
      case 202:
        return createResponse(
          req,
          0,
          undefined,
          undefined,
          json(
            '{"offsetTable":{{"brokerName":"b1","queueId":1,"topic":"T"}:{"lastUpdateTimestamp":7,"maxOffset":5,"minOffset":1},{"brokerName":"b1","queueId":0,"topic":"T"}:{"lastUpdateTimestamp":0,"maxOffset":0,"minOffset":0}},"topicPutTps":0.0}',
          ),
        );
      case 208:
        return createResponse(req, 26, `the consumer group[${req.extFields?.['consumerGroup']}] not exist`);
      case 28:
        return createResponse(req, 0, undefined, undefined, json('{"table":{"brokerVersionDesc":"V4_9_4"}}'));
      case 17:
      case 215:
      case 216:
        return createResponse(req, 0);
      default:
        return createResponse(req, 3, `request type ${req.code} not supported`);
    }
  });
  await server.start();
  addr = `127.0.0.1:${server.port}`;
});

after(async () => {
  await server.close();
});

test('createOrUpdateTopic on a cluster sends 106 then 17 with CreateTopicRequestHeader fields', async () => {
  const admin = new Admin({ nameServer: addr });
  try {
    seen.length = 0;
    const brokers = await admin.createOrUpdateTopic(
      { cluster: 'C1' },
      { topicName: 'T', readQueueNums: 2, writeQueueNums: 3, order: true },
    );
    assert.deepEqual(brokers, [addr]);
    assert.deepEqual(
      seen.map((r) => r.code),
      [106, 17],
    );
    assert.deepEqual(seen[1]?.extFields, {
      topic: 'T',
      defaultTopic: 'TBW102',
      readQueueNums: '2',
      writeQueueNums: '3',
      perm: '6',
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: '0',
      order: 'true',
    });
    await assert.rejects(
      admin.createOrUpdateTopic({ cluster: 'Nope' }, { topicName: 'T' }),
      /cluster 'Nope' not found/,
    );
    await assert.rejects(admin.createOrUpdateTopic({ brokerAddr: addr }, { topicName: 'bad topic' }), /characters/);
  } finally {
    await admin.close();
  }
});

test('deleteTopic sends 215 to masters and 216 to each NameServer', async () => {
  const admin = new Admin({ nameServer: `${addr};${addr}` });
  try {
    seen.length = 0;
    await admin.deleteTopic('T', 'C1');
    assert.deepEqual(
      seen.map((r) => r.code),
      [106, 215, 216, 216],
    );
    assert.deepEqual(seen[3]?.extFields, { topic: 'T', clusterName: 'C1' });
  } finally {
    await admin.close();
  }
});

test('topicStatus merges per-queue offsets; errors carry the response code name and remark', async () => {
  const admin = new Admin({ nameServer: addr });
  try {
    const q = await admin.topicStatus('T');
    assert.deepEqual(
      q.map((x) => [x.queueId, x.minOffset, x.maxOffset, x.lastUpdateTimestamp]),
      [
        [0, 0, 0, 0],
        [1, 1, 5, 7],
      ],
    );
    await assert.rejects(
      admin.topicRoute('Other'),
      (e: Error & { code?: number }) => e.code === 17 && /TOPIC_NOT_EXIST \(17\): No topic route/.test(e.message),
    );
    await assert.rejects(admin.consumerProgress('G', 'T'), /SUBSCRIPTION_GROUP_NOT_EXIST \(26\).*not exist/);
    assert.deepEqual(await admin.brokerRuntimeInfo(addr), { brokerVersionDesc: 'V4_9_4' });
  } finally {
    await admin.close();
  }
});

test('a dead first NameServer fails over to the next', async () => {
  const admin = new Admin({ nameServer: `127.0.0.1:1;${addr}` });
  try {
    const info = await admin.clusterInfo();
    assert.deepEqual(info.clusterAddrTable, { C1: ['b1'] });
  } finally {
    await admin.close();
  }
});
