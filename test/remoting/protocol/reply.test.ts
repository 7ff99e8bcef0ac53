/** PUSH_REPLY_MESSAGE_TO_CLIENT (326): ReplyMessageRequestHeader round trip; the required fields are named. */
import { test } from 'node:test';
import { decodeReplyMessageHeader, encodeReplyMessageHeader } from '../../../src/remoting/protocol/reply.js';
import { assertNamesMissing, assertRoundTrip } from './helpers.js';

test('reply push header (326)', () => {
  const h = {
    producerGroup: 'PG',
    topic: 'DefaultCluster_REPLY_TOPIC',
    defaultTopic: 'TBW102',
    defaultTopicQueueNums: 4,
    queueId: 0,
    sysFlag: 1,
    bornTimestamp: 1_700_000_000_000n,
    flag: 7,
    properties: 'CORRELATION_ID\u0001c\u0002',
    reconsumeTimes: 0,
    unitMode: false,
    bornHost: '127.0.0.1:50000',
    storeHost: '127.0.0.1:10911',
    storeTimestamp: 1_700_000_000_001n,
  };
  assertRoundTrip(h, encodeReplyMessageHeader, decodeReplyMessageHeader);
  const ext = encodeReplyMessageHeader(h);
  for (const f of ['producerGroup', 'topic', 'queueId', 'sysFlag', 'bornTimestamp', 'bornHost', 'storeHost']) {
    assertNamesMissing(ext, f, decodeReplyMessageHeader);
  }
});
