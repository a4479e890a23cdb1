import type { Member } from './Member.js';

/**
 * Smooth weighted round-robin (the scheme nginx uses): every pick adds each candidate's weight
 * to its running score, takes the highest score and subtracts the sum of weights from it.
 * Over any run of picks each member's share is within one call of its weight share, with the
 * calls interleaved rather than in bursts, and no randomness: the spread holds for 30 calls as
 * for 30,000. Members at capacity, offline, suspended or draining are not candidates; members
 * of weight 0 get calls only when no weighted member can take one.
 */
export function pickMember(members: Iterable<Member>, exclude: ReadonlySet<Member> = new Set()): Member | null {
  const all = [...members].filter((m) => m.accepting && !exclude.has(m));
  let candidates = all.filter((m) => m.spec.weight > 0);
  const weightOf = candidates.length > 0 ? (m: Member): number => m.spec.weight : (): number => 1;
  if (candidates.length === 0) candidates = all;
  if (candidates.length === 0) return null;
  let total = 0;
  let best: Member | null = null;
  for (const m of candidates) {
    const w = weightOf(m);
    m.currentWeight += w;
    total += w;
    if (!best || m.currentWeight > best.currentWeight) best = m;
  }
  best!.currentWeight -= total;
  return best;
}
