/** PermName bits, as RocketMQ defines them. */
export const Perm = { inherit: 1, write: 2, read: 4, priority: 8 } as const;

export function isWriteable(perm: number): boolean {
  return (perm & Perm.write) !== 0;
}

export function isReadable(perm: number): boolean {
  return (perm & Perm.read) !== 0;
}
