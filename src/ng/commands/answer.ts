import type { Call } from '../../call/Call.js';
import { CallGoneError, DialogueError } from '../../call/errors.js';
import { exchangeSdp, isLooped, planExchange } from '../../call/OfferAnswer.js';
import type { Monologue } from '../../call/Monologue.js';
import { parseSdp } from '../../sdp/SessionDescription.js';
import type { Services } from '../../Services.js';
import { parseOfferAnswer } from '../flags.js';
import type { NgDict, NgRequest } from '../NgRequest.js';
import { afterSignalling, requireCall } from './checks.js';

/**
 * The answering party is the to-tag: rtpengine swaps the tags for an answer. A to-tag the
 * call does not know yet names the pending callee, or is a new fork of the offerer's peer.
 */
function answerSender(call: Call, receiver: Monologue, toTag: string): Monologue {
  const known = call.findByTag(toTag);
  if (known) return known;
  if (call.pending && receiver.peer === call.pending) return call.namePending(toTag);
  return call.addMonologue(toTag, Date.now(), receiver.peer?.interfaceName ?? receiver.interfaceName);
}

export async function answer(s: Services, req: NgRequest): Promise<NgDict> {
  const opts = parseOfferAnswer(req, 'answer');
  const sd = parseSdp(opts.sdp);
  if (opts.loopProtect && isLooped(sd)) return { sdp: opts.sdp };
  const call = requireCall(s, req);
  return call.serialize(async () => {
    if (call.destroyed) throw new CallGoneError();
    const receiver = call.findByTag(opts.fromTag);
    if (!receiver) throw new DialogueError();
    const knownSender = call.findByTag(opts.toTag!) ?? (call.pending && receiver.peer === call.pending ? call.pending : undefined);
    if (knownSender === receiver) throw new DialogueError();
    const plan = planExchange(s, 'answer', sd, opts, {
      senderInterface: knownSender?.interfaceName ?? receiver.peer?.interfaceName ?? receiver.interfaceName,
      receiverInterface: receiver.interfaceName,
      receiverFamily: receiver.family,
      offeredMedias: knownSender?.medias ?? receiver.peer?.medias ?? [],
    });
    if (call.foreign) s.hooks.takeOver(call);
    call.lastSignal = Date.now();
    const sender = answerSender(call, receiver, opts.toTag!);
    const out = await exchangeSdp(s, call, sender, receiver, plan);
    await afterSignalling(s, call);
    return { sdp: out };
  });
}
