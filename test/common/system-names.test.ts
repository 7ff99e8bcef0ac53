/**
 * System topic names, system group names, property keys and the properties separators are spelled only in
 * src/common/topics.ts and src/common/properties.ts: every other string literal in src/ is checked.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Prop } from '../../src/common/properties.js';
import {
  dlqTopicPrefix,
  replyTopicSuffix,
  retryTopicPrefix,
  SystemGroup,
  SystemTopic,
  systemTopicPrefixes,
} from '../../src/common/topics.js';

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');
const homes = new Set(['common/topics.ts', 'common/properties.ts']);

/** The raw text of every string and template literal in `code` (comments and regex literals skipped). */
export function stringLiterals(code: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = code.length;
  const quoted = (q: string) => {
    const start = ++i;
    while (i < n && code[i] !== q) i += code[i] === '\\' ? 2 : 1;
    out.push(code.slice(start, i));
    i++;
  };
  // Returns at the `}` closing a template substitution when `inSubstitution`, else at the end.
  const scanCode = (inSubstitution: boolean) => {
    let depth = 0;
    let prev = '';
    while (i < n) {
      const c = code[i] as string;
      const next = code[i + 1];
      if (c === '/' && next === '/') {
        while (i < n && code[i] !== '\n') i++;
      } else if (c === '/' && next === '*') {
        i = code.indexOf('*/', i + 2);
        i = i < 0 ? n : i + 2;
      } else if (c === '/' && (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev))) {
        i++;
        let inClass = false;
        while (i < n && (inClass || code[i] !== '/')) {
          if (code[i] === '\\') i++;
          else if (code[i] === '[') inClass = true;
          else if (code[i] === ']') inClass = false;
          i++;
        }
        i++;
        prev = ')';
        continue;
      } else if (c === "'" || c === '"') {
        quoted(c);
        prev = ')';
        continue;
      } else if (c === '`') {
        scanTemplate();
        prev = ')';
        continue;
      } else if (c === '{') depth++;
      else if (c === '}') {
        if (inSubstitution && depth === 0) return;
        depth--;
      }
      if (!/\s/.test(c)) prev = c;
      i++;
    }
  };
  const scanTemplate = () => {
    let start = ++i;
    while (i < n) {
      const c = code[i];
      if (c === '\\') i += 2;
      else if (c === '`') break;
      else if (c === '$' && code[i + 1] === '{') {
        out.push(code.slice(start, i));
        i += 2;
        scanCode(true);
        start = ++i;
      } else i++;
    }
    out.push(code.slice(start, i));
    i++;
  };
  scanCode(false);
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

const names = [
  ...Object.values(SystemTopic),
  ...Object.values(SystemGroup),
  ...systemTopicPrefixes,
  retryTopicPrefix,
  dlqTopicPrefix,
  replyTopicSuffix,
];
const propKeys = new Set<string>(Object.values(Prop));
const separators = ['\\u0001', '\\u0002', '\\x01', '\\x02', '\u0001', '\u0002'];

/** Why `literal` spells a system name, or undefined. */
function offence(literal: string): string | undefined {
  const name = names.find((n) => literal.includes(n));
  if (name !== undefined) return `system name ${name}`;
  if (propKeys.has(literal)) return `property key ${literal}`;
  const sep = separators.find((s) => literal.includes(s));
  if (sep !== undefined) return `properties separator ${JSON.stringify(sep)}`;
  return undefined;
}

test('the literal scanner finds strings and templates, not comments or regexes', () => {
  const dollar = '$';
  const code = `// 'A'\n/* "B" */ const x = /'c'/; f('D', "E", \`F${dollar}{g('H')}I\`);`;
  assert.deepEqual(stringLiterals(code), ['D', 'E', 'F', 'H', 'I']);
});

test('system topics, groups, property keys and separators are spelled only in their home files', () => {
  const found: string[] = [];
  for (const file of sourceFiles(srcDir)) {
    const rel = path.relative(srcDir, file).split(path.sep).join('/');
    if (homes.has(rel)) continue;
    for (const literal of stringLiterals(readFileSync(file, 'utf8'))) {
      const why = offence(literal);
      if (why !== undefined) found.push(`${rel}: ${JSON.stringify(literal)} (${why})`);
    }
  }
  assert.deepEqual(found, []);
});
