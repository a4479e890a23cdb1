import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// Names from the wire (NG commands, flags, call-ids, tags, CLI words, codec names, payload
// types) must never index a plain object: `constructor`, `__proto__` or `toString` would find
// Object.prototype's members. Lookup tables are Maps or null-prototype objects; this keeps it so.
const SRC = join(import.meta.dirname, '../../src');

/** Plain-object lookup tables that are allowed, each with why. */
const ALLOWED = new Map<string, string>([
  ['config/options.ts:OPTIONS', 'looked up with Object.hasOwn only'],
  ['call/ControlStatistics.ts:r', 'a reply built from the fixed command names, never looked up'],
]);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('lookup tables', () => {
  it('are Maps or null-prototype objects, never object literals typed by string keys', () => {
    const found: string[] = [];
    for (const file of files(SRC)) {
      const text = readFileSync(file, 'utf8');
      // `const X: Record<string, ...> = {` and `const X: { [k: string]: ... } = {`
      for (const m of text.matchAll(/const (\w+): (?:Record<string,[^=]*|\{ \[\w+: string\]:[^=]*)= \{/g)) {
        const key = `${relative(SRC, file)}:${m[1]}`;
        if (!ALLOWED.has(key)) found.push(key);
      }
      // NgDict literals get keys from the wire: emptyDict() makes them prototype-free.
      for (const m of text.matchAll(/const (\w+): NgDict = \{\};/g)) found.push(`${relative(SRC, file)}:${m[1]} (use emptyDict())`);
    }
    expect(found).toEqual([]);
  });

  it('are looked up with hasOwn where the allowed ones are used', () => {
    const options = readFileSync(join(SRC, 'config/options.ts'), 'utf8');
    const lookups = [...options.matchAll(/OPTIONS\[(\w+)\]/g)].map((m) => m.index!);
    for (const at of lookups) {
      const line = options.slice(options.lastIndexOf('\n', at) + 1, options.indexOf('\n', at));
      expect(line.includes('Object.hasOwn(OPTIONS') || line.includes("OPTIONS[k]!.default"), line).toBe(true);
    }
  });
});
