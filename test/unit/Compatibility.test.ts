import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_COMMANDS } from '../../src/cli/commandTable.js';
import { OPTIONS } from '../../src/config/options.js';
import { IGNORED_OPTIONS } from '../../src/config/rtpengineOptions.js';
import { generatedDocs } from '../../src/docs/generated.js';
import { RTPENGINE_CLI_COMMANDS, RTPENGINE_NG_COMMANDS, RTPENGINE_OPTIONS } from '../../src/docs/rtpengine105.js';
import { NG_COMMANDS } from '../../src/ng/Dispatcher.js';
import { normalise } from '../../src/ng/NgRequest.js';
import { ngVocabulary } from '../../src/ng/vocabulary.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RTPENGINE = '/usr/bin/rtpengine';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the compatibility matrix and the man pages', () => {
  it('are what the code generates today (run `npm run docs` after changing an option, command or flag)', () => {
    for (const [path, text] of generatedDocs()) {
      expect(existsSync(join(ROOT, path)), `${path} is missing: run npm run docs`).toBe(true);
      expect(readFileSync(join(ROOT, path), 'utf8'), `${path} is stale: run npm run docs`).toBe(text);
    }
  });

  it('render cleanly with man -l, and ngrelay(8) names every option the parser takes', () => {
    const pages = [...generatedDocs().keys()].filter((p) => p.endsWith('.8'));
    expect(pages).toHaveLength(3);
    for (const page of pages) {
      const r = spawnSync('man', ['--warnings', '-l', join(ROOT, page)], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80', LC_ALL: 'C.UTF-8', MAN_KEEP_FORMATTING: '' } });
      expect(r.error, 'man is needed (apt-get install man-db)').toBeUndefined();
      expect(r.stderr, page).toBe('');
      expect(r.stdout.length, page).toBeGreaterThan(1000);
      if (page.endsWith('/ngrelay.8')) {
        const flat = r.stdout.replace(/\s+/g, ' ');
        for (const name of [...Object.keys(OPTIONS), ...IGNORED_OPTIONS.keys()]) expect(flat, name).toContain(`--${name}`);
      }
    }
  });

  it('list every option of the installed rtpengine', () => {
    expect(existsSync(RTPENGINE), `${RTPENGINE} is needed (apt-get install rtpengine-daemon)`).toBe(true);
    const help = execFileSync(RTPENGINE, ['--help'], { encoding: 'utf8' });
    const names = [...help.matchAll(/--([a-z0-9-]+)/g)].map((m) => m[1]!).filter((n) => !['help', 'version', 'config-file', 'config-section'].includes(n));
    expect(names.length).toBeGreaterThan(100);
    expect(names.filter((n) => !RTPENGINE_OPTIONS.includes(n))).toEqual([]);
  });

  it('know every NG key and flag the commands read, as the parser reports them', () => {
    const v = ngVocabulary();
    const read: string[] = [];
    for (const file of tsFiles(join(ROOT, 'src/ng'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/req\.(has|option|str|raw|rawList|list|int)\('([^']+)'\)/g)) {
        const name = normalise(m[2]!);
        const known = m[1] === 'has' ? v.flags.has(name) : m[1] === 'option' ? v.prefixes.has(`${name}-`) && v.keys.has(name) : v.keys.has(name);
        if (!known) read.push(`${file.slice(ROOT.length + 1)}: ${m[1]}('${m[2]}')`);
      }
    }
    expect(read).toEqual([]);
  });

  it('name every NG command the dispatcher implements, and rtpengine\'s', () => {
    const matrix = readFileSync(join(ROOT, 'docs/compatibility.md'), 'utf8');
    for (const c of [...NG_COMMANDS, ...RTPENGINE_NG_COMMANDS]) expect(matrix).toContain(`| \`${c}\``);
  });

  it('know every CLI command word the CLI dispatches on', () => {
    const src = readFileSync(join(ROOT, 'src/cli/CliCommands.ts'), 'utf8');
    const words = new Set([...src.matchAll(/case '([a-z]+)':/g)].map((m) => m[1]!));
    const known = new Set([...CLI_COMMANDS, ...RTPENGINE_CLI_COMMANDS.map((command) => ({ command }))].flatMap((c) => c.command.split(' ')));
    known.add('get'); // rtpengine's spelling of list
    expect([...words].filter((w) => !known.has(w))).toEqual([]);
  });
});
