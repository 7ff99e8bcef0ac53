/** The NameServer serves exactly the codes of its one table (src/namesrv/processor-table.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { namesrvProcessors } from '../../src/namesrv/processor-table.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { startNameServer } from './helpers.js';

test('every table code is a RocketMQ request code and is served; a code outside the table answers 3', async () => {
  const known = new Set<number>(Object.values(RequestCode));
  for (const code of namesrvProcessors.keys()) assert.ok(known.has(code), `code ${code} is not in RequestCode`);
  assert.equal(namesrvProcessors.size, 19);

  const ns = await startNameServer();
  const client = new RemotingClient();
  try {
    const addr = `127.0.0.1:${ns.port}`;
    for (const code of namesrvProcessors.keys()) {
      // Empty headers: most processors refuse a missing field, but none answers "not supported".
      const r = await client.invoke(addr, createRequest(code, {}), 3000);
      assert.notEqual(r.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, `code ${code}`);
    }
    const outside = await client.invoke(addr, createRequest(RequestCode.SEND_MESSAGE, {}), 3000);
    assert.equal(outside.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  } finally {
    await client.close();
    await ns.close();
  }
});
