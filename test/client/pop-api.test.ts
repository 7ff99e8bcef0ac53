/** The POP requests against a scripted server: which answers are statuses, which throw, and what they carry. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ackMessage, changeInvisibleTime, popMessage } from '../../src/client/pop-api.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createResponse, type RemotingCommand, SerializeType } from '../../src/remoting/command.js';
import { RemotingResponseError } from '../../src/remoting/errors.js';
import { HeaderFieldError } from '../../src/remoting/fields.js';
import { RemotingServer } from '../../src/remoting/server.js';

/** The next answer of each code, set by each test. */
const script = new Map<number, (req: RemotingCommand) => RemotingCommand>();
let server: RemotingServer;
let client: RemotingClient;
let addr: string;
const seen: RemotingCommand[] = [];

before(async () => {
  server = new RemotingServer({ name: 'pop-script', port: 0, host: '127.0.0.1' });
  for (const code of [RequestCode.POP_MESSAGE, RequestCode.ACK_MESSAGE, RequestCode.CHANGE_MESSAGE_INVISIBLETIME]) {
    server.registerProcessor(code, (req) => {
      seen.push(req);
      return (script.get(code) as (r: RemotingCommand) => RemotingCommand)(req);
    });
  }
  await server.start();
  addr = `127.0.0.1:${server.port}`;
  client = new RemotingClient();
});

after(async () => {
  await client.close();
  await server.close();
});

const pop = () =>
  popMessage(
    client,
    addr,
    {
      consumerGroup: 'G',
      topic: 'T',
      queueId: -1,
      maxMsgNums: 8,
      invisibleTime: 30_000n,
      pollTime: 0n,
      bornTime: 1n,
      initMode: 1,
      expType: 'TAG',
      exp: '*',
      order: false,
    },
    3000,
  );
const ackHeader = { consumerGroup: 'G', topic: 'T', queueId: 0, extraInfo: '0 1 30000 0 0 b 0 0', offset: 0n };

test('POP goes as JSON (its code does not fit the binary header) and names every header field', async () => {
  script.set(RequestCode.POP_MESSAGE, (req) => createResponse(req, ResponseCode.POLLING_TIMEOUT, 'no new message'));
  assert.deepEqual(await pop(), { status: 'none', pollingFull: false });
  const req = seen.at(-1) as RemotingCommand;
  assert.equal(req.code, RequestCode.POP_MESSAGE);
  assert.equal(req.serializeType, SerializeType.json);
  assert.equal(req.extFields?.['queueId'], '-1');
  assert.equal(req.extFields?.['order'], 'false');
});

test('POLLING_FULL and PULL_NOT_FOUND are empty answers; other refusals throw with the code', async () => {
  script.set(RequestCode.POP_MESSAGE, (req) => createResponse(req, ResponseCode.POLLING_FULL, 'full'));
  assert.deepEqual(await pop(), { status: 'none', pollingFull: true });
  script.set(RequestCode.POP_MESSAGE, (req) => createResponse(req, ResponseCode.PULL_NOT_FOUND));
  assert.deepEqual(await pop(), { status: 'none', pollingFull: false });
  script.set(RequestCode.POP_MESSAGE, (req) => createResponse(req, ResponseCode.TOPIC_NOT_EXIST, 'no topic T'));
  await assert.rejects(pop(), (err: unknown) => err instanceof RemotingResponseError && err.responseCode === 17);
});

test('a found answer without popTime is refused naming the field', async () => {
  script.set(RequestCode.POP_MESSAGE, (req) => {
    const resp = createResponse(req, ResponseCode.SUCCESS);
    resp.extFields = { invisibleTime: '30000', reviveQid: '0', restNum: '0' };
    return resp;
  });
  await assert.rejects(pop(), (err: unknown) => err instanceof HeaderFieldError && err.field === 'popTime');
});

test('ACK / CHANGE: NO_MESSAGE is gone, INVALID_PARAMETER invalid, others throw; CHANGE reads its header', async () => {
  for (const [code, status] of [
    [ResponseCode.NO_MESSAGE, 'gone'],
    [ResponseCode.INVALID_PARAMETER, 'invalid'],
  ] as const) {
    script.set(RequestCode.ACK_MESSAGE, (req) => createResponse(req, code, 'why'));
    assert.deepEqual(await ackMessage(client, addr, ackHeader, 3000), { status, code, remark: 'why' });
  }
  script.set(RequestCode.ACK_MESSAGE, (req) => createResponse(req, ResponseCode.SYSTEM_ERROR, 'disk'));
  await assert.rejects(ackMessage(client, addr, ackHeader, 3000), RemotingResponseError);
  script.set(RequestCode.CHANGE_MESSAGE_INVISIBLETIME, (req) => {
    const resp = createResponse(req, ResponseCode.SUCCESS);
    resp.extFields = { popTime: '5', invisibleTime: '9000', reviveQid: '3' };
    return resp;
  });
  assert.deepEqual(await changeInvisibleTime(client, addr, { ...ackHeader, invisibleTime: 9000n }, 3000), {
    status: 'ok',
    header: { popTime: 5, invisibleTime: 9000, reviveQid: 3 },
  });
  assert.equal(seen.at(-1)?.extFields?.['invisibleTime'], '9000');
});
