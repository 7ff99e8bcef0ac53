/**
 * Child-process entry for bench/fairness.ts: runs `flooders` floods (one connection each) with the FloodOptions
 * given as JSON in argv[2] and prints their FloodResults as one JSON line. A separate process, so the bench can
 * lower its priority: on a small machine the load generator would otherwise take the CPU the broker and the
 * measured producer need, which is not what a flood from other hosts does.
 */
import { setLogLevel } from '../../src/common/log.js';
import { type FloodOptions, flood } from './flood.js';

setLogLevel('error');
const o = JSON.parse(process.argv[2] ?? '{}') as FloodOptions & { flooders: number };
const results = await Promise.all(
  Array.from({ length: o.flooders }, (_, i) => flood({ ...o, producerGroup: `${o.producerGroup}_${i}` })),
);
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
