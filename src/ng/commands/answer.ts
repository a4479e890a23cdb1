import type { Call } from '../../call/Call.js';
import { exchangeSdp, parseRequestSdp } from '../../call/SdpExchange.js';
import type { Monologue } from '../../call/Monologue.js';
import type { Services } from '../../Services.js';
import { NgError, NgErrorText } from '../errors.js';
import type { NgDict, NgRequest } from '../NgRequest.js';
import { afterSignalling, requireCall, requireOfferAnswerKeys } from './checks.js';

/**
 * The answering party is the to-tag: rtpengine swaps the tags for an answer. A to-tag the
 * call does not know yet names the pending callee, or is a new fork of the offerer's peer.
 */
function answerSender(call: Call, receiver: Monologue, toTag: string): Monologue {
  const known = call.findByTag(toTag);
  if (known) return known;
  if (call.pending && receiver.peer === call.pending) return call.namePending(toTag);
  const fork = call.addMonologue(toTag, Date.now(), receiver.peer?.interfaceName ?? receiver.interfaceName);
  return fork;
}

export async function answer(s: Services, req: NgRequest): Promise<NgDict> {
  const { sdp, fromTag, toTag } = requireOfferAnswerKeys(req, true);
  const sd = parseRequestSdp(sdp);
  const call = requireCall(s, req);
  return call.serialize(async () => {
    if (call.destroyed) throw new NgError(NgErrorText.unknownCallId);
    if (call.foreign) s.hooks.takeOver(call);
    const receiver = call.findByTag(fromTag);
    if (!receiver) throw new NgError(NgErrorText.dialogue);
    call.lastSignal = Date.now();
    const sender = answerSender(call, receiver, toTag!);
    if (sender === receiver) throw new NgError(NgErrorText.dialogue);
    const out = await exchangeSdp(s, call, 'answer', sender, receiver, sd, req);
    await afterSignalling(s, call);
    return { sdp: out };
  });
}
