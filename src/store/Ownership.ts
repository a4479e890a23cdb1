/**
 * Who owns a call when records disagree. Each takeover raises the generation; two relays that
 * took the same call over at once hold the same generation, and then the relay whose node id
 * sorts first keeps it, so that every relay decides the same way from the records alone.
 */

export interface Claim {
  generation: number;
  owner: string;
}

/** Whether `record` takes the call from the claim `held` (a different owner's claim that ranks higher). */
export function claimBeats(record: Claim, held: Claim): boolean {
  if (record.generation !== held.generation) return record.generation > held.generation;
  return record.owner !== held.owner && record.owner < held.owner;
}

/** Whether `record` is the held claim itself, updated by its owner. */
export function sameClaim(record: Claim, held: Claim): boolean {
  return record.generation === held.generation && record.owner === held.owner;
}
