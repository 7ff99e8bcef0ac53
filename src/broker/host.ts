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
