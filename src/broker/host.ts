/** Normalizes a socket address to the IPv4 "a.b.c.d:port" the v1 record layout can hold. */
export function ipv4HostOf(addr: string): string {
  const at = addr.lastIndexOf(':');
  let ip = at < 0 ? addr : addr.slice(0, at);
  const port = at < 0 ? '0' : addr.slice(at + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip.startsWith('::ffff:')) ip = ip.slice(7);
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) ip = '127.0.0.1'; // IPv6 peers: v1 records have no room for them
  return `${ip}:${port}`;
}

/** Interfaces as `os.networkInterfaces()` lists them (injected in tests). */
export type NetworkInterfaces = Record<
  string,
  readonly { address: string; family: string | number; internal: boolean }[] | undefined
>;

/**
 * The IPv4 address clients should use to reach a broker bound to `bindHost` (RocketMQ's brokerIP1 default):
 * a specific IPv4 bind address is itself; a wildcard bind (0.0.0.0, ::, '') is the first non-loopback,
 * non-link-local IPv4 interface address, or 127.0.0.1 when there is none; localhost and ::1 are 127.0.0.1.
 */
export function advertisedIp(bindHost: string, interfaces: NetworkInterfaces): string {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bindHost) && bindHost !== '0.0.0.0') return bindHost;
  if (bindHost === 'localhost' || bindHost === '::1') return '127.0.0.1';
  for (const addrs of Object.values(interfaces)) {
    for (const a of addrs ?? []) {
      const v4 = a.family === 'IPv4' || a.family === 4;
      if (v4 && !a.internal && !a.address.startsWith('127.') && !a.address.startsWith('169.254.')) return a.address;
    }
  }
  return '127.0.0.1';
}
