import { isIP } from 'node:net';
import type { Call } from './Call.js';
import { PartySelectionError } from './errors.js';
import type { Monologue } from './Monologue.js';

/**
 * The parties a media command names, as rtpengine 10.5 matches them (its `media_block_match`):
 * one by `label`, `address` or `from-tag`, a list by `from-tags`, or every dialogue party by `all`.
 */

/** Which parties a request names, in rtpengine's order of precedence: `all`, `label`, `address`, `from-tag`, `from-tags`. */
export interface PartySelector {
  all: boolean;
  label?: string;
  address?: string;
  fromTag?: string;
  fromTags: readonly string[];
}

/** The parties of offer/answer dialogues: what `all` selects (subscribers and publishers are not among them). */
const dialogueParties = (call: Call): Monologue[] => [...call.monologues.values()].filter((ml) => ml.peer !== null);

/** The party whose media was advertised at an address (its SDP's), for the `address` selector. */
function partyAt(call: Call, address: string): Monologue | undefined {
  const a = address.toLowerCase();
  return call.parties().find((ml) => ml.medias.some((m) => m.rtp !== null && m.sdpAddress?.toLowerCase() === a));
}

/**
 * The one party `label`, `address` or `from-tag` names (the first given, empty ones skipped),
 * or null when none is given; throws what rtpengine answers when it names nobody.
 */
export function selectOne(call: Call, sel: Pick<PartySelector, 'label' | 'address' | 'fromTag'>): Monologue | null {
  if (sel.label) {
    const ml = call.parties().find((x) => x.label === sel.label);
    if (!ml) throw new PartySelectionError('label');
    return ml;
  }
  if (sel.address) {
    const ip = sel.address.replace(/^\[(.*)\]$/, '$1');
    if (isIP(ip) === 0) throw new PartySelectionError('address-syntax');
    const ml = partyAt(call, ip);
    if (!ml) throw new PartySelectionError('address');
    return ml;
  }
  if (sel.fromTag) {
    const ml = call.findByTag(sel.fromTag);
    if (!ml) throw new PartySelectionError('from-tag');
    return ml;
  }
  return null;
}

/** The parties a selector names, in order; throws what rtpengine answers when it names none. */
export function selectParties(call: Call, sel: PartySelector): Monologue[] {
  if (sel.all) {
    const all = dialogueParties(call);
    if (all.length === 0) throw new PartySelectionError('no-participant');
    return all;
  }
  const one = selectOne(call, sel);
  if (one) return [one];
  // Unknown tags of the list are left out (rtpengine logs them).
  const list = [...new Set(sel.fromTags)].map((t) => call.findByTag(t)).filter((x): x is Monologue => x !== undefined);
  if (list.length === 0) throw new PartySelectionError('none-matched');
  return list;
}
