import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Relative Markdown links `[text](target)` and `[text](target#anchor)`; web links are not checked. */
function links(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t) && !t.startsWith('#'));
}

describe('docs', () => {
  it('link only to files that exist', () => {
    const dead: string[] = [];
    for (const doc of DOCS) {
      for (const target of links(readFileSync(join(ROOT, doc), 'utf8'))) {
        const file = target.split('#')[0]!;
        if (!existsSync(resolve(dirname(join(ROOT, doc)), file))) dead.push(`${doc} -> ${target}`);
      }
    }
    expect(dead).toEqual([]);
  });

  it('speak to operators: no words from the project\'s own bookkeeping', () => {
    const words = /\bissue \d|\bthe seeds?\b|\bother helpers\b|\bhelpers? (were|paused|resumed)|\bthis session\b/i;
    const found = DOCS.flatMap((doc) => readFileSync(join(ROOT, doc), 'utf8').split('\n').map((l, i) => [doc, i + 1, l] as const))
      .filter(([, , l]) => words.test(l))
      .map(([d, n, l]) => `${d}:${n}: ${l.trim()}`);
    expect(found).toEqual([]);
  });
});
