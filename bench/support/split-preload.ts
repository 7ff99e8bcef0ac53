/**
 * Loaded into the broker by bench:fairness `--split` (`node --import <this file>?out=<file>`): records each small
 * send's broker-side timestamps and the GC pauses (latency-split.ts), written to `out` when the process exits.
 */
import { installSplit, recordGc, writeAtExit } from './latency-split.js';

const out = new URL(import.meta.url).searchParams.get('out');
if (out !== null) writeAtExit(out, installSplit(), recordGc());
