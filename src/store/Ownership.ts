/**
 * Who owns a call when records disagree. Each takeover raises the generation; two relays that
 * took the same call over at once hold the same generation, and then the relay whose node id
 * sorts first keeps it, so that every relay decides the same way from the records alone.
 * Generation 0 is a call's creation: two relays that each created a call of one id (an offer
 * retried on another relay) hold two calls, not two claims on one, and neither takes the other's.
 */

export interface Claim {
  generation: number;
  owner: string;
}

/** Whether `record` takes the call from the claim `held`: a higher generation, or the same takeover generation won by node id. */
export function claimBeats(record: Claim, held: Claim): boolean {
  if (record.generation !== held.generation) return record.generation > held.generation;
  return record.generation > 0 && record.owner !== held.owner && record.owner < held.owner;
}

/** Whether a foreign copy follows `record` without a change of claim: its owner's update, or a creation record. */
export function updatesHeld(record: Claim, held: Claim): boolean {
  return record.generation === held.generation && (record.owner === held.owner || record.generation === 0);
}
