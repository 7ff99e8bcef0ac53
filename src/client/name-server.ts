/** NameServer address lists ("host:port;host:port"), checked when a client is constructed, not at first use. */
import { InvalidArgumentError } from '../common/errors.js';

const portMax = 65_535;

/**
 * Splits and checks a NameServer list: entries separated by ";" (RocketMQ's separator; "," is accepted too),
 * each `host:port` or `[ipv6]:port`. Throws InvalidArgumentError naming the bad entry.
 */
export function parseNameServerList(list: string): string[] {
  if (typeof list !== 'string') throw new InvalidArgumentError('nameServer must be a string such as "127.0.0.1:9876"');
  const addrs = list
    .split(/[;,]/)
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (addrs.length === 0) throw new InvalidArgumentError('no NameServer address given (nameServer: "host:port")');
  for (const a of addrs) checkAddress(a);
  return addrs;
}

function checkAddress(addr: string): void {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(addr);
  if (m === null) {
    const hint = /^[^:\s]+$/.test(addr) ? `; did you mean ${addr}:9876?` : '';
    throw new InvalidArgumentError(
      `bad NameServer address '${addr}': expected host:port (several separated by ';')${hint}`,
    );
  }
  const port = Number(m[2]);
  if (port < 1 || port > portMax) throw new InvalidArgumentError(`bad NameServer address '${addr}': port out of range`);
}
