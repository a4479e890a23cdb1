import type { Call } from '../../call/Call.js';
import { CallGoneError, UnknownInterfaceError } from '../../call/errors.js';
import { exchangeSdp, isLooped, planExchange } from '../../call/OfferAnswer.js';
import { Monologue } from '../../call/Monologue.js';
import type { OfferAnswerOptions } from '../../call/OfferAnswerOptions.js';
import { parseSdp, type SessionDescription } from '../../sdp/SessionDescription.js';
import type { Services } from '../../Services.js';
import { NgError, NgErrorText } from '../errors.js';
import { parseOfferAnswer } from '../flags.js';
import type { NgDict, NgRequest } from '../NgRequest.js';
import { afterSignalling } from './checks.js';

function checkLimits(s: Services): void {
  const max = s.limits.maxSessions;
  if (max >= 0 && s.registry.count().own >= max) {
    s.registry.stats.rejectedSessions++;
    throw new NgError(NgErrorText.sessionLimit, true);
  }
}

/** The callee side an offer goes to, if it exists already: by to-tag, else the sender's peer, else the pending party. */
function knownReceiver(call: Call, sender: Monologue | undefined, toTag: string | undefined): Monologue | undefined {
  if (toTag) return call.findByTag(toTag) ?? (call.pending && sender?.peer === call.pending ? call.pending : undefined);
  return sender?.peer ?? call.pending ?? undefined;
}

/** The callee side for an offer: by to-tag when given, else the sender's peer, else a new pending party. */
function offerReceiver(call: Call, sender: Monologue, toTag: string | undefined, iface: string): Monologue {
  const now = Date.now();
  if (toTag) {
    const known = call.findByTag(toTag);
    if (known) return known;
    if (call.pending && sender.peer === call.pending) return call.namePending(toTag);
    return call.addMonologue(toTag, now, iface);
  }
  if (sender.peer) return sender.peer;
  call.pending ??= new Monologue('', now, iface);
  return call.pending;
}

/** Checks everything that could refuse the offer, then changes the call. */
async function offerOn(s: Services, c: Call, opts: OfferAnswerOptions, sd: SessionDescription): Promise<NgDict> {
  for (const name of opts.direction) if (!s.interfaces.has(name)) throw new UnknownInterfaceError(name);
  const fromIface = opts.direction[0] ?? s.interfaces.defaultName;
  const toIface = opts.direction[1] ?? opts.direction[0] ?? s.interfaces.defaultName;
  const knownSender = c.findByTag(opts.fromTag);
  const knownRecv = knownReceiver(c, knownSender, opts.toTag);
  const plan = planExchange(s, 'offer', sd, opts, {
    senderInterface: knownSender?.interfaceName ?? fromIface,
    receiverInterface: knownRecv?.interfaceName ?? toIface,
    receiverFamily: knownRecv?.family,
    offeredMedias: [],
  });
  // Nothing below refuses the offer for policy: commit.
  c.lastSignal = Date.now();
  const sender = knownSender ?? c.addMonologue(opts.fromTag, Date.now(), fromIface);
  if (opts.label) sender.label = opts.label;
  if (opts.viaBranch) sender.viaBranch = opts.viaBranch;
  const receiver = offerReceiver(c, sender, opts.toTag, toIface);
  if (opts.recordCall) s.hooks.startRecording(c);
  const out = await exchangeSdp(s, c, sender, receiver, plan);
  c.offerer = sender;
  await afterSignalling(s, c);
  return { sdp: out };
}

export async function offer(s: Services, req: NgRequest): Promise<NgDict> {
  const opts = parseOfferAnswer(req, 'offer');
  const sd = parseSdp(opts.sdp);
  // Loop protection: an SDP this relay wrote already goes back as it came.
  if (opts.loopProtect && isLooped(sd)) return { sdp: opts.sdp };
  let call = s.registry.get(opts.callId);
  if (call?.deleted) {
    // A new dialogue reusing a call-id that is in its delete-delay: start afresh.
    s.registry.destroy(call, 'deleted', false);
    call = undefined;
  }
  const isNew = !call;
  if (!call) {
    checkLimits(s);
    call = s.registry.create(opts.callId, false);
    call.createdFrom = req.source;
    call.ownerId = s.config.nodeId;
  }
  const c = call;
  return c.serialize(async () => {
    if (c.destroyed) throw new CallGoneError();
    try {
      if (c.foreign) s.hooks.takeOver(c);
      return await offerOn(s, c, opts, sd);
    } catch (e) {
      if (isNew) s.registry.destroy(c, 'error');
      throw e;
    }
  });
}
