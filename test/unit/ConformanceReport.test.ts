import { describe, expect, it } from 'vitest';
import { mergeIntoDoc, parseCategories, parseSummary, renderRun, type RunReport } from '../conformance/report.js';

const SUMMARY = `# RELAY=ours   suite: tag mr10.5.3.5 commit d7f5a38
auto-daemon-tests.pl: 633 passed, 326 failed, 961/961 planned/seen (2 skipped; of the failures: 2 preload-only, 68 blocks died; done_testing reached)
auto-daemon-tests-redis.pl: daemon did not start (see out/auto-daemon-tests-redis.daemon.log)
test-basic-ipv4.pl: 2 passed, 0 failed, 2/2 planned/seen (0 skipped; of the failures: 0 preload-only, 0 blocks died; done_testing reached) [DAEMON DIED]
TOTAL: 635 passed, 326 failed, 963 seen
`;

const CATEGORIES = `(a) feature not implemented              3
      SRTP/SDES                                                    2
      SRTP/SDES (cascade)                                          1
(b) plain RTP/SDP behaviour differs      1
      plain RTP/SDP difference                                     1
(c) crash/timeout/daemon died            0
(d) harness artefact                     0

Failures, one per line (category, reason, block@line, test number, name):
  a\tSRTP/SDES\t1@21\t3\tSDES in - output 'offer' SDP
  b\tplain RTP/SDP difference\t3@364\t32\tGH 1499 - output 'answer' SDP
`;

describe('conformance report', () => {
  it('reads the per-file lines of the summary, notes included', () => {
    const r = parseSummary(SUMMARY);
    expect(r).toEqual([
      { file: 'auto-daemon-tests.pl', passed: 633, failed: 326, seen: 961, preloadOnly: 2, blocksDied: 68 },
      { file: 'auto-daemon-tests-redis.pl', passed: 0, failed: 0, seen: 0, preloadOnly: 0, blocksDied: 0, note: 'daemon did not start (see out/auto-daemon-tests-redis.daemon.log)' },
      { file: 'test-basic-ipv4.pl', passed: 2, failed: 0, seen: 2, preloadOnly: 0, blocksDied: 0, note: 'daemon died' },
    ]);
  });

  it('reads categories with their reasons and lists (b) failures by name', () => {
    const c = parseCategories(CATEGORIES);
    expect(c.categories.map((x) => [x.name, x.count])).toEqual([
      ['(a) feature not implemented', 3],
      ['(b) plain RTP/SDP behaviour differs', 1],
      ['(c) crash/timeout/daemon died', 0],
      ["(d) rtpengine's test setup", 0],
    ]);
    expect(c.categories[0]!.reasons).toEqual([
      { reason: 'SRTP/SDES', count: 2 },
      { reason: 'SRTP/SDES (cascade)', count: 1 },
    ]);
    expect(c.notable).toEqual(["(b) block 3@364, #32: GH 1499 - output 'answer' SDP"]);
  });

  it('replaces the section of the same label and keeps the others', () => {
    const run = (label: string, passed: number): RunReport => ({
      label,
      date: '2025-01-01',
      commit: 'abc1234',
      relay: 'ours',
      files: [{ file: 'x.pl', passed, failed: 1, seen: passed + 1, preloadOnly: 0, blocksDied: 0, ...parseCategories(CATEGORIES) }],
    });
    let doc = '# Title\n';
    doc = mergeIntoDoc(doc, run('baseline', 10));
    doc = mergeIntoDoc(doc, run('current', 20));
    doc = mergeIntoDoc(doc, run('current', 30));
    expect(doc.startsWith('# Title\n\n<!-- run:baseline -->\n')).toBe(true);
    expect(doc.match(/<!-- run:current -->/g)).toHaveLength(1);
    expect(doc).toContain('| x.pl | 10 | 1 | 11 | 0 | 0 |');
    expect(doc).toContain('| x.pl | 30 | 1 | 31 | 0 | 0 |');
    expect(doc).not.toContain('| x.pl | 20 |');
    expect(renderRun(run('r', 5))).toContain('| x.pl | (a) feature not implemented | 3 | SRTP/SDES: 2; SRTP/SDES (cascade): 1 |');
  });
});
