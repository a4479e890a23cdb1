import { describe, expect, it } from 'vitest';
import { BranchMux } from '../../src/call/BranchMux.js';

describe('BranchMux: the rtcp-mux decision per via-branch of the offers', () => {
  it('answers each branch with its own offer’s decision', () => {
    const m = new BranchMux();
    m.offered('z9hG4bK-1', true);
    m.offered('z9hG4bK-2', null);
    m.offered('z9hG4bK-3', false);
    expect([m.decision('z9hG4bK-1'), m.decision('z9hG4bK-2'), m.decision('z9hG4bK-3'), m.decision('other')]).toEqual([true, null, false, undefined]);
  });

  it('stays bounded over a long call of re-INVITEs, keeping the latest branches', () => {
    const m = new BranchMux();
    for (let i = 0; i < 10_000; i++) m.offered(`z9hG4bK-${i}`, i % 2 === 0);
    expect(m.size).toBe(BranchMux.LIMIT);
    for (let i = 10_000 - BranchMux.LIMIT; i < 10_000; i++) expect(m.decision(`z9hG4bK-${i}`)).toBe(i % 2 === 0);
    expect(m.decision(`z9hG4bK-${10_000 - BranchMux.LIMIT - 1}`)).toBeUndefined();
  });

  it('a branch offered again becomes the latest and is kept', () => {
    const m = new BranchMux();
    m.offered('fork-a', true);
    for (let i = 0; i < BranchMux.LIMIT - 1; i++) {
      m.offered(`re-${i}`, false);
      m.offered('fork-a', true);
    }
    m.offered('late', null);
    expect(m.decision('fork-a')).toBe(true);
    expect(m.size).toBe(BranchMux.LIMIT);
  });
});
