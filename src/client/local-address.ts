/** The address this process reports as its own (client id, UNIQ_KEY). */
import { networkInterfaces } from 'node:os';

let cached: string | undefined;

/** First non-internal IPv4 address of this host, or 127.0.0.1 when there is none. */
export function localIPv4(): string {
  if (cached !== undefined) return cached;
  cached = '127.0.0.1';
  for (const addrs of Object.values(networkInterfaces())) {
    const found = addrs?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found !== undefined) {
      cached = found.address;
      break;
    }
  }
  return cached;
}
