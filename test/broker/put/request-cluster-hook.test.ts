/** The request-cluster put hook: CLUSTER appended to requests only, string or byte properties, with or without a final separator. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestClusterHook } from '../../../src/broker/put/request-cluster-hook.js';
import type { PutMessage } from '../../../src/broker/put/types.js';
import { decodeProperties, Prop } from '../../../src/common/properties.js';

const hook = requestClusterHook('C9');
const req = { reconsumeTimes: 0, maxReconsumeTimes: undefined };

function msg(properties: string | Buffer, replyRequest: boolean): PutMessage {
  return { properties, replyRequest } as unknown as PutMessage;
}

test('only requests get CLUSTER; other properties stay intact', () => {
  const plain = msg('A\u0001b\u0002', false);
  assert.equal(hook.beforePut(plain, req), undefined);
  assert.equal(plain.properties, 'A\u0001b\u0002');
  for (const p of ['A\u0001b\u0002', 'A\u0001b', Buffer.from('A\u0001b\u0002'), Buffer.from('A\u0001b'), '']) {
    const m = msg(p, true);
    assert.equal(hook.beforePut(m, req), undefined);
    const decoded = decodeProperties(m.properties.toString());
    assert.equal(decoded.get(Prop.clusterName), 'C9');
    if (p.length > 0) assert.equal(decoded.get('A'), 'b');
  }
});
