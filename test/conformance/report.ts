// Turns one run of rtpengine's own daemon tests (the harness's output directory) into a
// section of docs/conformance.md. A section is replaced by a later run with the same label,
// so the page keeps e.g. a "baseline" and a "current" run side by side.
//
//   node dist/test/conformance/report.js OUT_DIR LABEL COMMIT [DOC]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FileResult {
  file: string;
  passed: number;
  failed: number;
  seen: number;
  preloadOnly: number;
  blocksDied: number;
  /** "did not start" and similar: the line as the harness printed it. */
  note?: string;
}

export interface Category {
  /** `(a) feature not implemented`, `(b) plain RTP/SDP behaviour differs`, ... */
  name: string;
  count: number;
  reasons: { reason: string; count: number }[];
}

export interface FileCategories {
  categories: Category[];
  /** The (b) and (c) failures by name: the ones that say something is wrong, not missing. */
  notable: string[];
}

export interface RunReport {
  label: string;
  date: string;
  commit: string;
  relay: string;
  files: (FileResult & FileCategories)[];
}

const SUMMARY =
  /^(\S+): (\d+) passed, (\d+) failed, \S+?\/(\d+) planned\/seen \(.*?of the failures: (\d+) preload-only, (\d+) blocks died/;

/** The per-file lines of the harness's summary.txt. */
export function parseSummary(text: string): FileResult[] {
  const out: FileResult[] = [];
  for (const line of text.split('\n')) {
    const m = SUMMARY.exec(line);
    if (m) {
      out.push({
        file: m[1]!,
        passed: Number(m[2]),
        failed: Number(m[3]),
        seen: Number(m[4]),
        preloadOnly: Number(m[5]),
        blocksDied: Number(m[6]),
        ...(line.includes('[DAEMON DIED]') ? { note: 'daemon died' } : {}),
      });
      continue;
    }
    const d = /^(\S+\.pl): (.+)$/.exec(line);
    if (d) out.push({ file: d[1]!, passed: 0, failed: 0, seen: 0, preloadOnly: 0, blocksDied: 0, note: d[2]! });
  }
  return out;
}

/** A FILE.categories.txt as written by the harness's categorize.pl. */
export function parseCategories(text: string): FileCategories {
  const categories: Category[] = [];
  const notable: string[] = [];
  let inList = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('Failures, one per line')) {
      inList = true;
      continue;
    }
    if (inList) {
      const f = line.trim().split('\t');
      if ((f[0] === 'b' || f[0] === 'c') && f.length >= 5) notable.push(`(${f[0]}) block ${f[2]}, #${f[3]}: ${f[4]}`);
      continue;
    }
    const top = /^(\([a-d]\) .*?)\s+(\d+)$/.exec(line);
    if (top) {
      // The harness's own word for (d) names the harness; operators read it as rtpengine's test setup.
      categories.push({ name: top[1]!.replace(/^\(d\) harness artefact$/, "(d) rtpengine's test setup"), count: Number(top[2]), reasons: [] });
      continue;
    }
    const sub = /^\s+(.*?)\s+(\d+)$/.exec(line);
    if (sub && categories.length > 0) categories[categories.length - 1]!.reasons.push({ reason: sub[1]!, count: Number(sub[2]) });
  }
  return { categories, notable };
}

/** Reads the harness's output directory. */
export function readRun(outDir: string, label: string, commit: string, date: string): RunReport {
  const summary = readFileSync(join(outDir, 'summary.txt'), 'utf8');
  const relay = /^# RELAY=(\S+)/m.exec(summary)?.[1] ?? 'ours';
  const files = parseSummary(summary).map((r) => {
    const cat = join(outDir, `${r.file.replace(/\.pl$/, '')}.categories.txt`);
    const c = existsSync(cat) ? parseCategories(readFileSync(cat, 'utf8')) : { categories: [], notable: [] };
    return { ...r, ...c };
  });
  return { label, date, commit, relay, files };
}

export function renderRun(r: RunReport): string {
  const total = r.files.reduce(
    (t, f) => ({ passed: t.passed + f.passed, failed: t.failed + f.failed, seen: t.seen + f.seen, died: t.died + f.blocksDied }),
    { passed: 0, failed: 0, seen: 0, died: 0 },
  );
  const out: string[] = [];
  out.push(`### Run "${r.label}": ${r.date}, commit ${r.commit} (relay: ${r.relay === 'ours' ? 'ngrelay' : r.relay})`, '');
  out.push('| File | Passed | Failed | Seen | Blocks died | Preload-only |', '|---|---:|---:|---:|---:|---:|');
  for (const f of r.files) {
    out.push(`| ${f.file}${f.note ? ` (${f.note})` : ''} | ${f.passed} | ${f.failed} | ${f.seen} | ${f.blocksDied} | ${f.preloadOnly} |`);
  }
  out.push(`| **Total** | **${total.passed}** | **${total.failed}** | **${total.seen}** | **${total.died}** | |`, '');
  out.push('Failure categories:', '');
  out.push('| File | Category | Count | Reasons |', '|---|---|---:|---|');
  for (const f of r.files) {
    for (const c of f.categories) {
      if (c.count === 0) continue;
      const reasons = c.reasons.map((x) => `${x.reason}: ${x.count}`).join('; ');
      out.push(`| ${f.file} | ${c.name} | ${c.count} | ${reasons} |`);
    }
  }
  const notable = r.files.flatMap((f) => f.notable.map((n) => `- ${f.file}: ${n}`));
  if (notable.length > 0) out.push('', 'Failures in (b) and (c), one per assertion:', '', ...notable);
  return out.join('\n') + '\n';
}

const begin = (label: string): string => `<!-- run:${label} -->`;
const end = (label: string): string => `<!-- /run:${label} -->`;

/** Puts the run's section into the page: replaces the section with the same label, or appends it. */
export function mergeIntoDoc(doc: string, r: RunReport): string {
  const section = `${begin(r.label)}\n${renderRun(r)}${end(r.label)}\n`;
  const b = doc.indexOf(begin(r.label));
  const e = doc.indexOf(end(r.label));
  if (b >= 0 && e > b) return doc.slice(0, b) + section + doc.slice(e + end(r.label).length + 1);
  return doc.replace(/\n*$/, '\n\n') + section;
}

const INTRO = `# Conformance with rtpengine's own tests

rtpengine ships daemon tests (\`t/auto-daemon-tests*.pl\`, \`t/test-basic-*.pl\`). This page records how
ngrelay does on them, at tag mr10.5.3.5 (the version Debian 12 ships), run against the built relay.
The same files pass 1,513 assertions against rtpengine 10.5 itself.

Run it (as root: the harness creates a network namespace named \`rts-suite-<pid>\` and removes it):

    npm run build
    sudo test/conformance/run-suite.sh --label current

Categories: (a) a feature ngrelay does not have (SRTP, DTLS, ICE, transcoding, codec options, T.38,
media player ...); (b) plain RTP/SDP behaviour that differs from rtpengine; (c) a crash, a timeout or
a daemon that died; (d) an assertion of rtpengine's own test setup (its preload library), which
cannot pass against any other daemon. A block that dies skips the assertions after it, so "Seen"
counts only what was reached.
`;

function main(argv: string[]): void {
  const [outDir, label, commit, docPath = 'docs/conformance.md'] = argv;
  if (!outDir || !label || !commit) {
    process.stderr.write('usage: report.js OUT_DIR LABEL COMMIT [DOC]\n');
    process.exit(2);
  }
  const date = new Date().toISOString().slice(0, 10);
  const doc = existsSync(docPath) ? readFileSync(docPath, 'utf8') : INTRO;
  writeFileSync(docPath, mergeIntoDoc(doc, readRun(outDir, label, commit, date)));
  process.stdout.write(`${docPath}: run "${label}" written\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
