import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHelp, intOpt, type OptionSpec, parseArgs, UsageError } from '../../src/cli/admin/args.js';
import { runAdmin } from '../../src/cli/admin/index.js';
import { formatKeyValues, formatTable, toJson } from '../../src/cli/admin/table.js';

const specs: OptionSpec[] = [
  { short: 'n', long: 'namesrvAddr', description: 'ns', takesValue: true },
  { short: 't', long: 'topic', description: 'topic', takesValue: true, required: true },
  { short: 'r', long: 'readQueueNums', description: 'r', takesValue: true, defaultValue: '8' },
  { short: 'j', long: 'json', description: 'json', takesValue: false },
  { short: 'h', long: 'help', description: 'help', takesValue: false },
];

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

test('parseArgs reads short, long, inline and default values', () => {
  assert.deepEqual(parseArgs(['-n', '1.2.3.4:9876', '-t', 'T'], specs), {
    namesrvAddr: '1.2.3.4:9876',
    topic: 'T',
    readQueueNums: '8',
  });
  assert.deepEqual(parseArgs(['--topic=T', '-r4', '--json'], specs), { topic: 'T', readQueueNums: '4', json: true });
  assert.deepEqual(parseArgs(['--topic', 'T', '-json'], specs), { topic: 'T', readQueueNums: '8', json: true });
  assert.equal(parseArgs(['-h'], specs)['help'], true, 'help skips required checks');
});

test('parseArgs rejects unknown options, missing values and missing required flags', () => {
  assert.throws(
    () => parseArgs(['-x', 'y', '-t', 'T'], specs),
    (e) => e instanceof UsageError && /unknown option '-x'/.test(e.message),
  );
  assert.throws(() => parseArgs(['-t'], specs), /needs a value/);
  assert.throws(() => parseArgs(['-t', '-n', 'a:1'], specs), /-t \(--topic\) needs a value/);
  assert.throws(() => parseArgs([], specs), /missing required option -t \(--topic\)/);
  assert.throws(() => parseArgs(['stray', '-t', 'T'], specs), /unexpected argument 'stray'/);
  assert.throws(() => parseArgs(['-t', 'T', '--json=1'], specs), /takes no value/);
});

test('intOpt validates range and digits', () => {
  assert.equal(intOpt({ r: '16' }, 'r', 1, 1024), 16);
  assert.equal(intOpt({}, 'r', 1, 1024), undefined);
  assert.throws(() => intOpt({ r: '0' }, 'r', 1, 1024), /1\.\.1024/);
  assert.throws(() => intOpt({ r: '8x' }, 'r', 1, 1024), UsageError);
});

test('formatTable aligns columns, right-aligns numbers, no trailing spaces', () => {
  const t = formatTable(
    ['#Broker', '#QID', '#Max'],
    [
      ['broker-a', 0, 12],
      ['b', 10, 3n],
      ['c', undefined, 1],
    ],
  );
  assert.equal(
    t,
    ['#Broker   #QID  #Max', 'broker-a     0    12', 'b           10     3', 'c            -     1'].join('\n'),
  );
  for (const line of t.split('\n')) assert.equal(line, line.trimEnd());
  assert.equal(formatTable(['#A', '#B'], []), '#A  #B');
  assert.equal(
    formatKeyValues([
      ['Topic', 'T'],
      ['Queue ID', 3],
    ]),
    'Topic   : T\nQueue ID: 3',
  );
});

test('toJson renders bigints and maps', () => {
  assert.deepEqual(JSON.parse(toJson({ a: 5n, m: new Map([['k', 'v']]), big: 2n ** 60n })), {
    a: 5,
    m: { k: 'v' },
    big: '1152921504606846976',
  });
});

test('formatHelp lists every option with required and default markers', () => {
  const h = formatHelp('tsrocket admin x', 'does x', specs);
  assert.match(h, /^usage: tsrocket admin x/);
  assert.match(h, /-t, --topic <topic>\s+topic \(required\)/);
  assert.match(h, /\[default: 8\]/);
});

test('runAdmin: unknown subcommand and bad flags exit 2 with a clear message', async () => {
  let c = capture();
  assert.equal(await runAdmin(['noSuchCommand'], c.io), 2);
  assert.match(c.err.join('\n'), /unknown admin subcommand 'noSuchCommand'/);
  assert.match(c.err.join('\n'), /updateTopic/);

  c = capture();
  assert.equal(await runAdmin(['topicRoute', '-n', '127.0.0.1:1'], c.io), 2);
  assert.match(c.err.join('\n'), /missing required option -t \(--topic\)/);

  c = capture();
  assert.equal(await runAdmin(['updateTopic', '-n', '127.0.0.1:1', '-t', 'T'], c.io), 2);
  assert.match(c.err.join('\n'), /exactly one of -b brokerAddr or -c clusterName/);

  c = capture();
  assert.equal(await runAdmin(['updateTopic', '-b', '127.0.0.1:1', '-t', 'T', '-r', 'many'], c.io), 2);
  assert.match(c.err.join('\n'), /--readQueueNums must be an integer/);

  c = capture();
  assert.equal(await runAdmin(['topicList', '-n', 'not-an-address'], c.io), 2);
  assert.match(c.err.join('\n'), /bad NameServer address/);

  c = capture();
  assert.equal(await runAdmin([], c.io), 2);
});

test('runAdmin: -h prints per-subcommand help and exits 0', async () => {
  const c = capture();
  assert.equal(await runAdmin(['consumerProgress', '-h'], c.io), 0);
  assert.match(c.out.join('\n'), /-g, --groupName <groupName>/);
  assert.match(c.out.join('\n'), /-n, --namesrvAddr/);
  const all = capture();
  assert.equal(await runAdmin(['--help'], all.io), 0);
  assert.match(all.out.join('\n'), /queryMsgByKey/);
});

test('runAdmin: an unreachable NameServer is exit 1 with the reason', async () => {
  const c = capture();
  assert.equal(await runAdmin(['topicList', '-n', '127.0.0.1:1'], c.io), 1);
  assert.match(c.err.join('\n'), /^topicList failed: /);
});
