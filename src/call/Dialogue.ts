import type { Call } from './Call.js';
import { DialogueError } from './errors.js';
import { Monologue } from './Monologue.js';

/**
 * Dialogue association: which parties of a call an offer or an answer is between, as rtpengine
 * decides it from the tags. Decided first without changing the call (`PartyRef`s), made real
 * at commit (`resolveParty`), so that a request that fails later leaves no party behind.
 */

/** A party as the plan names it: one the call has, or one the commit creates or names. */
export type PartyRef =
  | { kind: 'known'; ml: Monologue }
  /** The callee side between offer and answer gets its tag. */
  | { kind: 'name-pending'; ml: Monologue; tag: string }
  /** A new party; tag '' is the callee side of an offer without to-tag (pending until answered). */
  | { kind: 'new'; tag: string; interfaceName: string };

export interface Dialogue {
  sender: PartyRef;
  receiver: PartyRef;
}

/** The party a ref names, if it exists already. */
export function existing(ref: PartyRef): Monologue | undefined {
  return ref.kind === 'new' ? undefined : ref.ml;
}

/** The interface a party's sockets are on: its own when it exists. */
export function interfaceOf(ref: PartyRef): string {
  return ref.kind === 'new' ? ref.interfaceName : ref.ml.interfaceName;
}

/**
 * An offer from `fromTag`: to the party `toTag` names when given (the pending callee once the
 * sender's partner, or a new fork), else to the sender's partner, else to the pending callee or a new one.
 */
export function offerDialogue(call: Call, fromTag: string, toTag: string | undefined, fromIface: string, toIface: string): Dialogue {
  const known = call.findByTag(fromTag);
  const sender: PartyRef = known ? { kind: 'known', ml: known } : { kind: 'new', tag: fromTag, interfaceName: fromIface };
  const peer = known?.peer ?? null;
  let receiver: PartyRef;
  if (toTag) {
    const tagged = call.findByTag(toTag);
    if (tagged) receiver = { kind: 'known', ml: tagged };
    else if (call.pending && peer === call.pending) receiver = { kind: 'name-pending', ml: call.pending, tag: toTag };
    else receiver = { kind: 'new', tag: toTag, interfaceName: toIface };
  } else if (peer) receiver = { kind: 'known', ml: peer };
  else if (call.pending) receiver = { kind: 'known', ml: call.pending };
  else receiver = { kind: 'new', tag: '', interfaceName: toIface };
  return { sender, receiver };
}

/**
 * An answer: rtpengine swaps the tags, so the answering party is the to-tag and the offerer
 * the from-tag. A to-tag the call does not know yet names the pending callee, or is a new
 * fork of the offerer's partner.
 */
export function answerDialogue(call: Call, fromTag: string, toTag: string): Dialogue {
  const offerer = call.findByTag(fromTag);
  if (!offerer) throw new DialogueError();
  const tagged = call.findByTag(toTag);
  let sender: PartyRef;
  if (tagged) sender = { kind: 'known', ml: tagged };
  else if (call.pending && offerer.peer === call.pending) sender = { kind: 'name-pending', ml: call.pending, tag: toTag };
  else sender = { kind: 'new', tag: toTag, interfaceName: offerer.peer?.interfaceName ?? offerer.interfaceName };
  if (existing(sender) === offerer) throw new DialogueError();
  return { sender, receiver: { kind: 'known', ml: offerer } };
}

/** Makes a planned party real (commit): creates or names it in the call. */
export function resolveParty(call: Call, ref: PartyRef, now: number): Monologue {
  switch (ref.kind) {
    case 'known':
      return ref.ml;
    case 'name-pending':
      return call.pending === ref.ml ? call.namePending(ref.tag) : ref.ml;
    case 'new':
      if (ref.tag === '') return (call.pending ??= new Monologue('', now, ref.interfaceName));
      return call.addMonologue(ref.tag, now, ref.interfaceName);
  }
}
