/**
 * Topic message types over a real `tsrocket start`: `tsrocket admin updateTopic -m DELAY` (its own process) types a
 * topic, the SDK's plain send is refused with MESSAGE_ILLEGAL naming both types while a delayed one is accepted, and
 * the type survives a SIGKILL of the server (topics.json).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer } from '../../src/client/producer.js';
import { RemotingResponseError } from '../../src/remoting/errors.js';
import { cliPath, startServer, stopAll, tempDir } from './procs.js';

const run = promisify(execFile);
after(stopAll);

async function refusedAsNormal(nameServer: string, topic: string): Promise<void> {
  const producer = new Producer({ nameServer, group: 'typed_it_producer', retryTimesWhenSendFailed: 0 });
  await producer.start();
  try {
    await assert.rejects(producer.send({ topic, body: 'plain' }), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /accepts DELAY messages only; this message is NORMAL/);
      return true;
    });
    const delayed = await producer.send({ topic, body: 'later', delayTimeLevel: 1 });
    assert.ok(delayed.msgId);
  } finally {
    await producer.shutdown();
  }
}

test('updateTopic -m DELAY (CLI process) types a topic; the type is enforced and survives SIGKILL', async () => {
  const { dir, cleanup } = await tempDir('types');
  const data = join(dir, 'data');
  try {
    let server = await startServer(data);
    const cli = await run(process.execPath, [
      cliPath,
      'admin',
      'updateTopic',
      '-n',
      server.nameServer,
      '-b',
      server.brokerAddr,
      '-t',
      'TypedDelay',
      '-m',
      'DELAY',
    ]);
    assert.match(cli.stdout, /create topic to .* success/);
    const admin = new Admin({ nameServer: server.nameServer });
    try {
      for (let i = 0; i < 100 && (await admin.topicRoute('TypedDelay').catch(() => undefined)) === undefined; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await refusedAsNormal(server.nameServer, 'TypedDelay');
      // The remark reaches admin tools as it is.
      await assert.rejects(
        admin.sendMessage('TypedDelay', 'x'),
        (e: unknown) => e instanceof RemotingResponseError && /MESSAGE_ILLEGAL/.test(e.message),
      );
    } finally {
      await admin.close();
    }
    server.proc.kill('SIGKILL');
    await server.proc.exited;
    server = await startServer(data);
    try {
      const again = new Admin({ nameServer: server.nameServer });
      try {
        const [cfg] = await again.topicConfig('TypedDelay');
        assert.equal(cfg?.config.attributes['message.type'], 'DELAY');
      } finally {
        await again.close();
      }
      await refusedAsNormal(server.nameServer, 'TypedDelay');
    } finally {
      await server.proc.stop();
    }
  } finally {
    await cleanup();
  }
});
