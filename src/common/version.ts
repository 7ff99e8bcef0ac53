/** The package's own version, read once from its package.json (found by walking up from this file). */
import { readFileSync } from 'node:fs';

function readPackageVersion(): string | undefined {
  let dir = new URL('./', import.meta.url);
  for (let up = 0; up < 5; up++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tsrocket' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json at this level: keep walking up.
    }
    dir = new URL('../', dir);
  }
  return undefined;
}

/** tsrocket's semver, e.g. "0.1.0"; undefined if its package.json cannot be read. */
export const packageVersion = readPackageVersion();

/** The version in RocketMQ's MQVersion form ("V4_9_8", "V5_0_0_SNAPSHOT"), as brokerVersionDesc carries it. */
export function rocketmqVersionDesc(semver: string): string {
  return `V${semver.replace(/[^0-9A-Za-z]+/g, '_').toUpperCase()}`;
}
