/**
 * Which SEND sysFlag bits the broker stores as sent, and the refusal of the others: stored, they would be
 * acknowledged and then skipped (or misread) by every consumer.
 *   0x1 COMPRESSED, 0x2 MULTI_TAGS               stored as sent (the body stays as the producer compressed it)
 *   0x4 PREPARED                                 the transaction put hook answers it
 *   0x8 COMMIT                                   stored and delivered as a plain message
 *   0xC ROLLBACK                                 refused: it would take no queue offset, so it is never delivered
 *   0x10 BORNHOST_V6, 0x20 STOREHOST_V6          refused: records hold 8-byte IPv4 hosts (v1 layout), and the
 *                                                broker sets the host fields itself; a reader would take 20 bytes
 *   0x40 NEED_UNWRAP, 0x80 INNER_BATCH           refused: 5.x batch forms, not built
 *   0x300 ZLIB (with COMPRESSED)                 stored as sent: 4.x consumers inflate every body with zlib
 *   0x100 LZ4, 0x200 ZSTD, 0x400–0x700           refused: 4.x consumers would fail to inflate the body
 *   above 0x7FF                                  refused: no meaning defined
 */
import { SysFlag } from '../../common/message.js';

/** The bits of a SEND sysFlag stored as they are (the compression type is checked apart). */
const storedAsSent = SysFlag.compressed | SysFlag.multiTags | SysFlag.transactionCommitType;

const bitNames: ReadonlyArray<readonly [number, string]> = [
  [SysFlag.bornHostV6, 'BORNHOST_V6'],
  [SysFlag.storeHostV6, 'STOREHOST_V6'],
  [SysFlag.needUnwrap, 'NEED_UNWRAP'],
  [SysFlag.innerBatch, 'INNER_BATCH'],
];

/** Undefined when every bit of `sysFlag` is served; otherwise a remark naming the bits refused and why. */
export function unsupportedSysFlag(sysFlag: number): string | undefined {
  const tx = sysFlag & SysFlag.transactionRollbackType;
  const compression = sysFlag & SysFlag.compressionTypeMask;
  const rest = sysFlag & ~(storedAsSent | SysFlag.transactionRollbackType | SysFlag.compressionTypeMask);
  const zlibOrNone = compression === 0 || compression === SysFlag.compressionZlib;
  if (rest === 0 && tx !== SysFlag.transactionRollbackType && zlibOrNone) return undefined;
  const why: string[] = [];
  if (tx === SysFlag.transactionRollbackType) {
    why.push('0xC TRANSACTION_ROLLBACK (a rolled-back message is never delivered)');
  }
  for (const [bit, name] of bitNames) {
    if ((rest & bit) !== 0) why.push(`0x${bit.toString(16)} ${name}`);
  }
  const unnamed = rest & ~bitNames.reduce((all, [bit]) => all | bit, 0);
  if (unnamed !== 0) why.push(`0x${(unnamed >>> 0).toString(16)} (undefined bits)`);
  if (!zlibOrNone) {
    why.push(
      `compression type 0x${compression.toString(16)} (only zlib, 0x300, is served: consumers inflate with zlib)`,
    );
  }
  return `message sysFlag 0x${(sysFlag >>> 0).toString(16)} has bits this broker does not support: ${why.join(', ')}`;
}
