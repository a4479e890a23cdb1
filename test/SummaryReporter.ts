import type { Reporter } from 'vitest/reporters';
import type { RunnerTestFile, RunnerTask } from 'vitest';

/** Prints the plain `N passed, N failed` line CI reads, after vitest's own summary. */
export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const walk = (t: RunnerTask): void => {
      if (t.type === 'suite') {
        if (t.result?.state === 'fail' && t.tasks.length === 0) failed++;
        t.tasks.forEach(walk);
        return;
      }
      const s = t.result?.state;
      if (s === 'pass') passed++;
      else if (s === 'fail') failed++;
      else skipped++;
    };
    for (const f of files) {
      if (f.result?.state === 'fail' && f.tasks.length === 0) failed++;
      f.tasks.forEach(walk);
    }
    console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  }
}
