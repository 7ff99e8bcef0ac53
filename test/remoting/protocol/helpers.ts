/** Round-trip helpers for the protocol tests: extFields through a real frame in both serialize types. */
import assert from 'node:assert/strict';
import { decodeFrame } from '../../../src/remoting/codec.js';
import { createRequest, type RemotingCommand, SerializeType } from '../../../src/remoting/command.js';
import { HeaderFieldError } from '../../../src/remoting/fields.js';
import { encodeFrame } from '../helpers.js';

/** A request carrying `extFields`, encoded into a frame and decoded again (length prefix dropped). */
export function overWire(extFields: Record<string, string>, serializeType: SerializeType): RemotingCommand {
  const req = createRequest(0);
  req.extFields = extFields;
  req.serializeType = serializeType;
  return decodeFrame(encodeFrame(req).subarray(4));
}

export const bothTypes = [SerializeType.json, SerializeType.rocketmq] as const;

/** encode → frame (JSON and ROCKETMQ) → decode gives back `header`. */
export function assertRoundTrip<H>(
  header: H,
  encode: (h: H) => Record<string, string>,
  decode: (cmd: RemotingCommand) => unknown,
  expected: unknown = header,
): void {
  for (const type of bothTypes) {
    assert.deepEqual(decode(overWire(encode(header), type)), expected, `serialize type ${type}`);
  }
}

/** Removing `field` from a valid header makes decode throw a HeaderFieldError naming it. */
export function assertNamesMissing(
  valid: Record<string, string>,
  field: string,
  decode: (cmd: RemotingCommand) => unknown,
): void {
  const { [field]: _dropped, ...rest } = valid;
  const cmd = overWire(rest, SerializeType.json);
  assert.throws(
    () => decode(cmd),
    (err: unknown) => err instanceof HeaderFieldError && err.field === field && err.message.includes(field),
    `missing ${field}`,
  );
}
