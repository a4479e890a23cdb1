import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config/options.js';
import { IGNORED_OPTIONS } from '../../src/config/rtpengineOptions.js';
import { BALANCER_OPTIONS } from '../../src/balancer/options.js';
import { CLI_COMMANDS } from '../../src/cli/commandTable.js';
import { RTPENGINE_CLI_COMMANDS } from '../../src/docs/rtpengine105.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const TRACKED = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter((f) => f !== '');
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

/** A doc's lines outside fenced code blocks, and its fenced blocks, each with line numbers. */
function split(text: string): { prose: [number, string][]; blocks: { line: number; lang: string; body: string[] }[] } {
  const prose: [number, string][] = [];
  const blocks: { line: number; lang: string; body: string[] }[] = [];
  let open: { line: number; lang: string; body: string[] } | null = null;
  text.split('\n').forEach((l, i) => {
    const fence = /^\s*```(\S*)/.exec(l);
    if (fence) {
      if (open) {
        blocks.push(open);
        open = null;
      } else open = { line: i + 1, lang: fence[1]!, body: [] };
    } else if (open) open.body.push(l);
    else prose.push([i + 1, l]);
  });
  return { prose, blocks };
}

/** Inline code spans of the prose, with their line numbers. */
function codeSpans(doc: string): [number, string][] {
  return split(read(doc)).prose.flatMap(([n, l]) => [...l.matchAll(/`([^`]+)`/g)].map((m) => [n, m[1]!] as [number, string]));
}

/** Relative Markdown links `[text](target)` and `[text](target#anchor)`; web links are not checked. */
function links(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t));
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, l] of split(text).prose) {
    const h = /^#{1,6}\s+(.*?)\s*#*$/.exec(l);
    if (!h) continue;
    const base = h[1]!.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Kamailio's rtpengine module: its parameters and functions share the prefix of rtpengine's metrics. */
const KAMAILIO = /^rtpengine_(sock|tout_ms|retr|disable_tout|offer|answer|delete|manage|query|info|ping|.*recording|.*media|.*dtmf|.*forwarding|subscribe.*|publish|unsubscribe|allow_op|.*_pv|.*_flags|.*_mode)$/;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every metric the relay registers, by the name it is scraped under. */
function metricNames(): Set<string> {
  const out = new Set<string>();
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/name: '((?:rtpengine|ngrelay)_[a-z0-9_]+)'/g)) out.add(m[1]!);
    }
  };
  walk(join(ROOT, 'src'));
  return out;
}

/** Options of the relay and the balancer, and the few Node and V8 options the docs name. */
const NODE_OPTIONS = new Set(['balancer', 'trace-gc', 'max-semi-space-size', 'v8-pool-size', 'max-old-space-size', 'single-threaded-gc', 'no-concurrent-marking', 'cpu-prof', 'prof']);
const RELAY_OPTIONS = new Set([...Object.keys(OPTIONS), ...IGNORED_OPTIONS.keys(), 'config-file', 'config-section', 'help', 'version']);
const ALL_OPTIONS = new Set([...RELAY_OPTIONS, ...BALANCER_OPTIONS.map((o) => o.name), 'help']);

/** The options the benchmarks take, read from their option tables. */
function benchOptions(): Set<string> {
  const out = new Set<string>();
  for (const f of readdirSync(join(ROOT, 'bench')).filter((x) => x.endsWith('.ts'))) {
    for (const m of read(`bench/${f}`).matchAll(/^\s+'?([a-z][a-z0-9-]*)'?: \{ type:/gm)) out.add(m[1]!);
  }
  return out;
}

describe('docs', () => {
  it('have no merge-conflict markers in any tracked file', () => {
    const found = TRACKED.filter((f) => existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).isFile()).flatMap((f) => {
      const buf = readFileSync(join(ROOT, f));
      if (buf.includes(0)) return [];
      return buf.toString('utf8').split('\n').flatMap((l, i) => (/^(<{7}|>{7}|\|{7})( |$)|^={7}$/.test(l) ? [`${f}:${i + 1}: ${l}`] : []));
    });
    expect(found).toEqual([]);
  });

  it('link only to files and headings that exist', () => {
    const dead: string[] = [];
    for (const doc of DOCS) {
      for (const target of links(read(doc))) {
        const [file, anchor] = target.split('#') as [string, string | undefined];
        const path = file === '' ? join(ROOT, doc) : resolve(dirname(join(ROOT, doc)), file);
        if (!existsSync(path)) dead.push(`${doc} -> ${target}`);
        else if (anchor !== undefined && path.endsWith('.md') && !anchors(readFileSync(path, 'utf8')).has(anchor)) dead.push(`${doc} -> ${target} (no such heading)`);
      }
    }
    expect(dead).toEqual([]);
  });

  it('cite no file outside the repository', () => {
    const SYSTEM = /^\/(etc|usr|run|var|proc|sys|lib|tmp|dev|bin|sbin|opt)\//;
    const TOP = new Set(readdirSync(ROOT));
    const bad: string[] = [];
    for (const doc of [...DOCS, ...TRACKED.filter((f) => f.startsWith('etc/') && !f.endsWith('.json'))]) {
      const text = read(doc);
      for (const [i, l] of text.split('\n').entries()) {
        for (const m of l.matchAll(/(?<![\w.@-])((?:\.\.\/|\/)?[\w.-]+(?:\/[\w.*-]+)+\/?)/g)) {
          const p = m[1]!.replace(/\.$/, '');
          if (p.startsWith('/')) {
            if (!SYSTEM.test(p) && /^\/(work|home|root|srv|mnt)\//.test(p)) bad.push(`${doc}:${i + 1}: ${p}`);
            continue;
          }
          const first = p.replace(/^(\.\.\/)+/, '').split('/')[0]!;
          const fromRoot = !p.startsWith('../') || resolve(dirname(join(ROOT, doc)), p).startsWith(ROOT + '/');
          // A path into a folder of the repository must exist there (build output aside); one that climbs out is outside.
          if (!fromRoot) bad.push(`${doc}:${i + 1}: ${p}`);
          else if (['shared', 'reference', 'conformance', 'coord', 'wt'].includes(first) && !TOP.has(first)) bad.push(`${doc}:${i + 1}: ${p}`);
          else if (['src', 'docs', 'etc', 'bench', 'test'].includes(first) && !p.includes('*') && !p.endsWith('/')) {
            const at = [join(ROOT, p), resolve(dirname(join(ROOT, doc)), p)];
            if (!at.some((x) => existsSync(x))) bad.push(`${doc}:${i + 1}: ${p}`);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('speak to operators: no words from the project\'s own bookkeeping, no test names', () => {
    const words = /\b[Ii]ssue \d|\bthe seeds?\b|\bother helpers\b|\bhelpers? (were|paused|resumed)|\bthis session\b|\.test\.ts\b|\bharness\b|embedded default|\bother engineers\b|\bthe targets?\b|\[[A-Z][a-z]+[A-Z][A-Za-z]*\]/;
    const files = [...DOCS, ...TRACKED.filter((f) => f.startsWith('etc/') && !f.endsWith('.json'))];
    const found = files.flatMap((doc) => read(doc).split('\n').map((l, i) => [doc, i + 1, l] as const))
      .filter(([, , l]) => words.test(l))
      .map(([d, n, l]) => `${d}:${n}: ${l.trim()}`);
    expect(found).toEqual([]);
  });

  it('name only metrics the relay serves', () => {
    const known = metricNames();
    const bad: string[] = [];
    for (const doc of DOCS) {
      for (const [n, l] of read(doc).split('\n').entries()) {
        for (const m of l.matchAll(/\b((?:rtpengine|ngrelay)_[a-z0-9_]*[a-z0-9])\b/g)) {
          const name = m[1]!.replace(/_(bucket|sum|count)$/, '');
          if (KAMAILIO.test(m[1]!)) continue;
          if (!known.has(name) && !known.has(m[1]!)) bad.push(`${doc}:${n + 1}: ${m[1]}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('name only options that exist, in text and in config examples', () => {
    const bench = benchOptions();
    const bad: string[] = [];
    for (const doc of DOCS) {
      for (const [n, span] of codeSpans(doc)) {
        // A span that is an option, or a command line of one of the relay's programs.
        if (!/^(--|(ngrelay|ngrelay-balancer|rtpengine|ngrelay-ctl|rtpengine-ctl) )/.test(span)) continue;
        for (const m of span.matchAll(/(?:^|\s)--([a-z][a-z0-9-]*)/g)) {
          if (!ALL_OPTIONS.has(m[1]!) && !NODE_OPTIONS.has(m[1]!) && !bench.has(m[1]!)) bad.push(`${doc}:${n}: --${m[1]}`);
        }
      }
      // Config examples: every key of a [rtpengine] section is an option of the relay.
      for (const b of split(read(doc)).blocks) {
        let section = '';
        b.body.forEach((l, i) => {
          const s = /^\s*\[([^\]]+)\]\s*$/.exec(l);
          if (s) section = s[1]!;
          const kv = /^\s*#?\s*([a-z][a-z0-9-]*)\s*=\s*\S/.exec(l);
          if (kv && section === 'rtpengine' && !RELAY_OPTIONS.has(kv[1]!)) bad.push(`${doc}:${b.line + 1 + i}: ${kv[1]} (config key)`);
        });
      }
    }
    // The option table of configuration.md: every key in its first column.
    for (const [n, l] of read('docs/configuration.md').split('\n').entries()) {
      const first = /^\| ([^|]+) \|/.exec(l)?.[1] ?? '';
      for (const m of first.matchAll(/`([a-z][a-z0-9-]*)`/g)) if (!RELAY_OPTIONS.has(m[1]!)) bad.push(`docs/configuration.md:${n + 1}: ${m[1]}`);
    }
    // The shipped sample configuration too.
    for (const l of read('etc/rtpengine.conf').split('\n')) {
      const kv = /^\s*#?\s*([a-z][a-z0-9-]*)\s*=\s*\S/.exec(l);
      if (kv && !RELAY_OPTIONS.has(kv[1]!)) bad.push(`etc/rtpengine.conf: ${kv[1]}`);
    }
    expect(bad).toEqual([]);
  });

  it('name only CLI commands the compatibility matrix knows', () => {
    const known = [...CLI_COMMANDS.map((c) => c.command), ...RTPENGINE_CLI_COMMANDS].map((c) => c.replace(/^list /, ''));
    const first = new Set(['list', 'get', 'set', 'terminate', 'params', 'ksadd', 'ksrm', 'kslist', 'workers', 'drain', 'undrain', 'debug', 'call']);
    const bad: string[] = [];
    for (const doc of DOCS) {
      for (const [n, span] of codeSpans(doc)) {
        const ctl = /^(?:rtpengine-ctl|ngrelay-ctl|node dist\/src\/bin\/ngrelay-ctl\.js)((?: -(?:ip|port|config) \S+)*) ([^-].*)$/.exec(span);
        if (ctl && span.includes('--balancer')) continue;
        // One word alone (`list`, `set`) is as often the NG command or a Redis command.
        const line = ctl ? ctl[2]! : first.has(span.split(' ')[0]!) && span.includes(' ') ? span : null;
        if (line === null || line === '...' || /\bfoo\b/.test(line)) continue;
        const words = line.replace(/^(list|get) /, '').split(' ');
        // A command matches when its words start the line (the rest are its arguments).
        const ok = known.some((k) => {
          const kw = k.split(' ');
          return kw.every((w, i) => words[i] === w) || (kw.length === 1 && words.length === 1 && /^[A-Z]/.test(words[0]!));
        });
        if (!ok) bad.push(`${doc}:${n}: ${span}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('quote only log lines the relay writes', () => {
    const src = tsFiles(join(ROOT, 'src')).map((f) => readFileSync(f, 'utf8')).join('\n');
    const bad: string[] = [];
    for (const doc of DOCS) {
      for (const b of split(read(doc)).blocks) {
        for (const l of b.body) {
          // `LEVEL: [CALL-ID]: [subsystem] message key=value ...`, as the relay's text format writes it.
          const m = /^(?:\[[\d.]+\] )?(?:DEBUG|INFO|NOTICE|WARNING|ERR|CRIT): (?:\[[^\]]+\]: )?\[[a-z]+\] (.*?)(?: [a-zA-Z]+=\S.*)?$/.exec(l.trim());
          if (m && !src.includes(m[1]!)) bad.push(`${doc}: ${m[1]}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('are all reachable: every page under docs/ is linked from the README or another page', () => {
    const linked = new Set<string>();
    for (const doc of DOCS) {
      for (const t of links(read(doc))) linked.add(relative(ROOT, resolve(dirname(join(ROOT, doc)), t.split('#')[0]!)));
    }
    expect(DOCS.filter((d) => d !== 'README.md' && !linked.has(d))).toEqual([]);
  });
});
