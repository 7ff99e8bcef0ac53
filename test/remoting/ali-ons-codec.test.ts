import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { decodeFrame } from '../../src/remoting/codec.js';
import { createResponse } from '../../src/remoting/command.js';
import { encodeFrame } from './helpers.js';

interface AliCommand {
  code: number;
  flag: number;
  opaque: number;
  remark?: string;
  extFields: Record<string, unknown>;
  body: Buffer | null | undefined;
  encode(): Buffer;
}
interface AliCommandClass {
  createRequestCommand(code: number, header: Record<string, unknown>): AliCommand;
  decode(packet: Buffer): AliCommand;
}

const require = createRequire(import.meta.url);
const AliRemotingCommand = require('ali-ons/lib/protocol/command/remoting_command.js') as AliCommandClass;

test("ali-ons' own codec: we decode its requests and it decodes our responses", () => {
  const aliReq = AliRemotingCommand.createRequestCommand(310, { a: 'group', d: 4, k: false, g: 1700000000000 });
  aliReq.body = Buffer.from('payload');
  const req = decodeFrame(aliReq.encode().subarray(4));
  assert.equal(req.code, 310);
  assert.equal(req.opaque, aliReq.opaque);
  assert.deepEqual(req.extFields, { a: 'group', d: '4', k: 'false', g: '1700000000000' });
  assert.equal(req.body?.toString(), 'payload');

  const resp = createResponse(req, 0, 'ok', { msgId: 'AB', queueId: 1, queueOffset: 42n }, Buffer.from('r'));
  const aliResp = AliRemotingCommand.decode(encodeFrame(resp));
  assert.equal(aliResp.code, 0);
  assert.equal(aliResp.opaque, aliReq.opaque);
  assert.equal(aliResp.flag & 1, 1);
  assert.equal(aliResp.remark, 'ok');
  assert.deepEqual(aliResp.extFields, { msgId: 'AB', queueId: '1', queueOffset: '42' });
  assert.equal(aliResp.body?.toString(), 'r');
});
