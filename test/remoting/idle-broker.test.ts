/**
 * Idle reaping in a real broker (serverChannelMaxIdleTimeSeconds = 1): a pull held longer than that keeps its
 * connection, since a request awaiting its answer is not idle; once answered and silent, the connection is
 * closed, and the runtime info counts it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { createTopic, type Harness, pull, sleep, startHarness } from '../broker/helpers.js';
import { rawPeer } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startHarness({ serverChannelMaxIdleTimeSeconds: 1, longPollingHoldMsMax: 5000 });
  await createTopic(h, 'IdleHeld', 1);
});
after(() => h.close());

test('a pull held 2.5 s on a 1 s idle limit is answered on its connection; silent afterwards, it is closed', async () => {
  const startedMs = Date.now();
  // Suspend flag (2): held until its deadline, as a push consumer's pull.
  const r = await pull(h, 'IdleHeld', 0, 0, { sysFlag: 2, suspendTimeoutMillis: 2500 }, 10_000);
  assert.equal(r.code, ResponseCode.PULL_NOT_FOUND);
  assert.ok(Date.now() - startedMs >= 2400, 'the pull was not held');
  const silent = await rawPeer(h.broker.port);
  await sleep(2600);
  assert.ok(silent.socket.destroyed, 'a connection silent for 2.6 s was not closed');
  const info = await h.client.invoke(h.addr, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO, {}), 5000);
  const table = (JSON.parse(info.body?.toString() ?? '{}') as { table: Record<string, string> }).table;
  // The raw peer and the harness client's first connection (silent after its pull) were both reaped.
  assert.ok(Number(table['connectionsReapedIdle']) >= 1, JSON.stringify(table));
});
