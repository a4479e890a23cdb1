import type { Call } from '../../call/Call.js';
import { exchangeSdp, parseRequestSdp } from '../../call/SdpExchange.js';
import { Monologue } from '../../call/Monologue.js';
import type { Services } from '../../Services.js';
import { NgError, NgErrorText } from '../errors.js';
import type { NgDict, NgRequest } from '../NgRequest.js';
import { afterSignalling, requireOfferAnswerKeys } from './checks.js';

function checkLimits(s: Services): void {
  const max = s.limits.maxSessions;
  if (max >= 0 && s.registry.count().own >= max) {
    s.registry.stats.rejectedSessions++;
    throw new NgError(NgErrorText.sessionLimit, true);
  }
}

/** The callee side for an offer: by to-tag when given, else the sender's peer, else a new pending party. */
function offerReceiver(s: Services, call: Call, sender: Monologue, toTag: string | undefined, iface: string): Monologue {
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

export async function offer(s: Services, req: NgRequest): Promise<NgDict> {
  const { sdp, callId, fromTag, toTag } = requireOfferAnswerKeys(req, false);
  const sd = parseRequestSdp(sdp);
  let call = s.registry.get(callId);
  if (call?.deleted) {
    // A new dialogue reusing a call-id that is in its delete-delay: start afresh.
    s.registry.destroy(call, 'deleted', false);
    call = undefined;
  }
  const isNew = !call;
  if (!call) {
    checkLimits(s);
    call = s.registry.create(callId, false);
    call.createdFrom = req.source;
    call.ownerId = s.config.nodeId;
  }
  const c = call;
  return c.serialize(async () => {
    if (c.destroyed) throw new NgError(NgErrorText.unknownCallId);
    if (c.foreign) s.hooks.takeOver(c);
    try {
      c.lastSignal = Date.now();
      const dir = req.rawList('direction');
      for (const name of dir) {
        if (!s.interfaces.has(name)) throw new NgError(`Unknown logical interface '${name}'`);
      }
      const fromIface = dir[0] ?? s.interfaces.defaultName;
      const toIface = dir[1] ?? dir[0] ?? s.interfaces.defaultName;
      const sender = c.findByTag(fromTag) ?? c.addMonologue(fromTag, Date.now(), fromIface);
      const label = req.str('label') ?? req.str('from-label');
      if (label) sender.label = label;
      if (req.viaBranch) sender.viaBranch = req.viaBranch;
      const receiver = offerReceiver(s, c, sender, toTag, toIface);
      if (req.has('record-call') || ['yes', 'on'].includes(req.str('record-call') ?? '')) s.hooks.startRecording(c);
      const out = await exchangeSdp(s, c, 'offer', sender, receiver, sd, req);
      c.offerer = sender;
      await afterSignalling(s, c);
      return { sdp: out };
    } catch (e) {
      if (isNew) s.registry.destroy(c, 'error');
      throw e;
    }
  });
}
