import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createOffsetMsgId } from '../../src/common/record.js';
import { OffsetMsgIdText } from '../../src/store/put-path.js';

test('OffsetMsgIdText: the comma-separated ids equal createOffsetMsgId of each offset (offsets past 2^32 too)', () => {
  const host = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(65535));
  const offsets = fc.array(fc.oneof(fc.nat(), fc.maxSafeNat(), fc.integer({ min: 2 ** 32 - 2, max: 2 ** 32 + 2 })), {
    minLength: 1,
    maxLength: 70,
  });
  fc.assert(
    fc.property(host, offsets, ([a, b, c, d, port], phys) => {
      const storeHost = `${a}.${b}.${c}.${d}:${port}`;
      const hostHex = createOffsetMsgId(storeHost, 0n).slice(0, 16);
      const ids = new OffsetMsgIdText(hostHex, phys.length);
      for (const phy of phys) ids.add(phy);
      assert.equal(ids.text(), phys.map((phy) => createOffsetMsgId(storeHost, BigInt(phy))).join(','));
    }),
  );
});
