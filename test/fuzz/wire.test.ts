/**
 * Fuzzes the wire decoders: the frame splitter fed random chunkings, the JSON and ROCKETMQ binary headers, and
 * every request/response header decoder of src/remoting/protocol on what they produce. Bounded time (harness.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame, FrameDecoder } from '../../src/remoting/codec.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { RemotingProtocolError } from '../../src/remoting/errors.js';
import { HeaderFieldError } from '../../src/remoting/fields.js';
import * as clients from '../../src/remoting/protocol/clients.js';
import * as groupAdmin from '../../src/remoting/protocol/group-admin.js';
import * as kvConfig from '../../src/remoting/protocol/kv-config.js';
import * as registration from '../../src/remoting/protocol/namesrv-registration.js';
import * as route from '../../src/remoting/protocol/namesrv-route.js';
import * as offsets from '../../src/remoting/protocol/offsets.js';
import * as pull from '../../src/remoting/protocol/pull.js';
import * as query from '../../src/remoting/protocol/query.js';
import * as send from '../../src/remoting/protocol/send.js';
import * as sendBack from '../../src/remoting/protocol/send-back.js';
import * as stats from '../../src/remoting/protocol/stats.js';
import * as topicAdmin from '../../src/remoting/protocol/topic-admin.js';
import { type FuzzTarget, fuzz, type Rng, reported } from './harness.js';

/** Every header decoder of the protocol families (request and response). */
const headerDecoders: Array<(cmd: RemotingCommand) => unknown> = [
  clients,
  groupAdmin,
  kvConfig,
  registration,
  route,
  offsets,
  pull,
  query,
  sendBack,
  send,
  stats,
  topicAdmin,
].flatMap((mod) =>
  Object.entries(mod)
    .filter(([name, fn]) => name.startsWith('decode') && typeof fn === 'function')
    .map(([, fn]) => fn as (cmd: RemotingCommand) => unknown),
);

function decodeAll(frame: Buffer): void {
  const cmd = decodeFrame(frame);
  for (const decode of headerDecoders) {
    try {
      decode(cmd);
    } catch (err) {
      if (!(err instanceof HeaderFieldError)) throw err;
    }
  }
}

/** Splits `input` at random points, biased to tiny chunks (1-byte feeding is the parser's hardest case). */
function chunksOf(input: Buffer, rng: Rng): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < input.length; ) {
    const n = rng.below(4) === 0 ? 1 : 1 + rng.below(rng.below(2) === 0 ? 16 : input.length);
    out.push(input.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** A frame stream: any chunking gives the frames of one whole push; each frame decodes or throws typed errors. */
const frames: FuzzTarget = {
  name: 'frames',
  allowed: [RemotingProtocolError, HeaderFieldError],
  run(input, rng) {
    let whole: Buffer[] | undefined;
    try {
      whole = new FrameDecoder().push(input);
    } catch (err) {
      if (!(err instanceof RemotingProtocolError)) throw err;
    }
    const decoder = new FrameDecoder();
    const got: Buffer[] = [];
    for (const chunk of chunksOf(input, rng)) got.push(...decoder.push(chunk));
    // Only reached when the chunked feed did not throw either: both saw the same length prefixes.
    assert.ok(whole !== undefined, 'a chunked feed accepted what a whole push refused');
    assert.equal(got.length, whole.length, 'chunking changed the number of frames');
    for (const [i, f] of got.entries()) assert.ok(f.equals(whole[i]!), `chunking changed frame ${i}`);
    // Held bytes: all after the last frame, less the length prefix once it has been read.
    const rest = input.length - got.reduce((n, f) => n + 4 + f.length, 0);
    assert.ok(decoder.pendingBytes === rest || (rest >= 4 && decoder.pendingBytes === rest - 4), 'bytes went missing');
    for (const f of got) decodeAll(f);
  },
};

function headerTarget(name: string, type: number, tokens: readonly string[]): FuzzTarget {
  return {
    name,
    allowed: [RemotingProtocolError, HeaderFieldError],
    tokens,
    run(header) {
      const frame = Buffer.allocUnsafe(4 + header.length + 3);
      frame.writeUInt32BE(((type << 24) | (header.length & 0xffffff)) >>> 0, 0);
      header.copy(frame, 4);
      frame.write('abc', 4 + header.length);
      decodeAll(frame);
    },
  };
}

const jsonTokens = ['{', '}', '[', ']', '"', '\\', ':', ',', 'null', 'true', '{"a":', '"__proto__"', '\\u0000'];

test('fuzz: frame stream under random chunkings', (t) => {
  const r = reported(t, fuzz(frames));
  assert.ok(r.inputs > 0);
});

test('fuzz: JSON headers and the protocol header decoders', (t) => {
  const r = reported(t, fuzz(headerTarget('json-headers', 0, jsonTokens)));
  assert.ok(r.refused > 0, 'mutations were refused at least once');
});

test('fuzz: ROCKETMQ binary headers and the protocol header decoders', (t) => {
  const r = reported(t, fuzz(headerTarget('binary-headers', 1, ['\u0000\u0000\u0000\u0001', '\u007f\u00ff'])));
  assert.ok(r.refused > 0, 'mutations were refused at least once');
});
