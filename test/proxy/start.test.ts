/** `tsrocket start` serves the gRPC endpoint and says where; `tsrocket broker` does too. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cliPath, Proc, startArgs, stopAll, tempDir } from '../integration/procs.js';
import { RawClient } from './raw-client.js';

after(() => stopAll());

test('tsrocket start logs its gRPC endpoint and serves QueryRoute there', async () => {
  const { dir, cleanup } = await tempDir('grpc-start');
  try {
    // startArgs turns gRPC off for the remoting tests; here it is on, on an ephemeral port.
    const args = [...startArgs(dir).filter((a) => a !== '--no-grpc'), '--grpc-port', '0'];
    const proc = new Proc('tsrocket start', args);
    const m = await proc.line(/tsrocket started .*grpcEndpoint=([\d.]+:\d+)/);
    const endpoint = m[1] as string;
    assert.notEqual(endpoint.split(':')[1], '8081', 'ephemeral with an ephemeral broker port');
    const raw = new RawClient(endpoint);
    try {
      const r = await raw.call<{ status: { code: string }; messageQueues: unknown[] }>('QueryRoute', {
        topic: { name: 'StartGrpcTopic' },
      });
      assert.equal(r.status.code, 'OK');
      assert.equal(r.messageQueues.length, 8);
    } finally {
      raw.close();
    }
    await proc.stop();
  } finally {
    await cleanup();
  }
});

test('tsrocket broker --port 0 serves gRPC on an ephemeral port too, and logs it', async () => {
  const { dir, cleanup } = await tempDir('grpc-broker');
  try {
    const proc = new Proc('tsrocket broker', [cliPath, 'broker', '--port', '0', '--host', '127.0.0.1', '--data', dir]);
    await proc.line(/broker serving port=\d+/);
    const m = await proc.line(/gRPC endpoint listening port=(\d+)/);
    assert.ok(Number(m[1]) > 0);
    await proc.stop();
  } finally {
    await cleanup();
  }
});

test('tsrocket start --no-grpc serves no gRPC endpoint', async () => {
  const { dir, cleanup } = await tempDir('grpc-off');
  try {
    const proc = new Proc('tsrocket start', startArgs(dir));
    const m = await proc.line(/tsrocket started .*/);
    assert.doesNotMatch(m[0], /grpcEndpoint/);
    assert.equal(
      proc.lines.some((l) => /gRPC endpoint listening/.test(l)),
      false,
    );
    await proc.stop();
  } finally {
    await cleanup();
  }
});
