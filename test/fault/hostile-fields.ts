/**
 * For the hostile-client test: which header fields each broker request code reads, measured rather than listed.
 * A throwaway broker gets a request hook that wraps each request's extFields in a recording Proxy; each code of
 * the processor table is sent until the set of fields its decoder and processor read stops growing (a field
 * refused as "not a boolean" or "not an integer" gets a value of that type). The result is a baseline request
 * per code that gets past header decoding, and the list of fields to garble.
 */
import { brokerProcessors } from '../../src/broker/processor-table.js';
import { SystemTopic } from '../../src/common/topics.js';
import type { RemotingServer } from '../../src/remoting/server.js';
import { call, createTopic, startHarness } from '../broker/helpers.js';

/** Topic and group the hostile requests aim at (never the well-behaved client's). */
export const hostileTopic = 'HostileTopic';
export const hostileGroup = 'hostile_cg';

/** A value that gets past the decoder for a field of this name (corrected by the broker's remark if not). */
function baselineValue(field: string): string {
  switch (field) {
    case 'topic':
    case 'originTopic':
    case 'b':
      return hostileTopic;
    case 'consumerGroup':
    case 'group':
    case 'groupName':
      return hostileGroup;
    case 'producerGroup':
    case 'a':
      return 'hostile_pg';
    case 'defaultTopic':
    case 'c':
      return SystemTopic.autoCreate;
    case 'clientID':
      return 'hostile-client@1';
    case 'properties':
    case 'i':
      return '';
    case 'key':
      return 'k';
    case 'expressionType':
      return 'TAG';
    case 'subscription':
      return '*';
    case 'originMsgId':
    case 'msgId':
      return '7F00000100002A9F0000000000000000';
    default:
      return '0';
  }
}

export interface CodeFields {
  code: number;
  /** extFields that pass header decoding. */
  baseline: Record<string, string>;
  /** Every field the broker read while serving it. */
  read: string[];
}

export async function discoverHeaderFields(): Promise<CodeFields[]> {
  const h = await startHarness();
  try {
    await createTopic(h, hostileTopic);
    const seen = new Set<string>();
    const record = <T>(k: string | symbol, value: T): T => {
      if (typeof k === 'string') seen.add(k);
      return value;
    };
    // The broker's server is private: reached here only to install the recording hook on this throwaway broker.
    const server = (h.broker as unknown as { server: RemotingServer }).server;
    server.addHook({
      name: 'record-header-fields',
      before(req) {
        req.extFields = new Proxy(req.extFields ?? {}, {
          get: (t, k, r) => record(k, Reflect.get(t, k, r)),
          has: (t, k) => record(k, Reflect.has(t, k)),
          getOwnPropertyDescriptor: (t, k) => record(k, Reflect.getOwnPropertyDescriptor(t, k)),
        });
        return undefined;
      },
    });
    const out: CodeFields[] = [];
    for (const code of brokerProcessors.keys()) {
      const baseline: Record<string, string> = {};
      const read = new Set<string>();
      for (let round = 0; round < 40; round++) {
        seen.clear();
        const resp = await call(h, code, baseline);
        let grew = false;
        for (const k of seen) {
          read.add(k);
          if (!Object.hasOwn(baseline, k)) {
            baseline[k] = baselineValue(k);
            grew = true;
          }
        }
        const typed = /header field '([^']+)' is not a (boolean|32-bit integer|64-bit integer)/.exec(resp.remark ?? '');
        if (typed !== null && baseline[typed[1]!] !== (typed[2] === 'boolean' ? 'false' : '0')) {
          baseline[typed[1]!] = typed[2] === 'boolean' ? 'false' : '0';
          grew = true;
        }
        if (!grew) break;
      }
      out.push({ code, baseline, read: [...read].sort() });
    }
    return out;
  } finally {
    await h.close();
  }
}

/** Garbage for a string header field: numbers as text out of range, not numbers, empty, huge, control chars. */
export const garbageValues: readonly string[] = [
  '',
  ' ',
  'abc',
  '-1',
  '-2147483649',
  '2147483648',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775809',
  '1.5',
  '0x10',
  '1e3',
  'NaN',
  'true',
  '\u0000',
  '\u0001\u0002',
  'é'.repeat(64),
  'x'.repeat(8192),
  '%RETRY%',
  '%DLQ%x',
  SystemTopic.autoCreate,
  SystemTopic.schedule,
];

/** The same fields with JSON values of the wrong type (the codec turns them into strings; nulls are dropped). */
export const wrongJsonTypes: readonly unknown[] = [123, -1, 1.5, 1e308, true, null, [1, 2], { a: 1 }, ''];
