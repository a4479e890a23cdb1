import { parseSdp, type SessionDescription } from '../sdp/SessionDescription.js';
import type { Services } from '../Services.js';
import { SETTLED } from '../media/MediaPlane.js';
import type { Call } from './Call.js';
import type { Monologue } from './Monologue.js';
import { answerDialogue, existing, interfaceOf, offerDialogue, type Dialogue } from './Dialogue.js';
import { CallGoneError, SessionLimitError, UnknownInterfaceError } from './errors.js';
import { allocateExchange, commitExchange, isLooped, planExchange, type ExchangePlan } from './OfferAnswer.js';
import type { OfferAnswerOptions } from './OfferAnswerOptions.js';
import { linkSubscriptions } from './MediaSetup.js';
import { checkTranscodeLimit } from './TranscodeLimit.js';

/**
 * The call model's signalling façade: what NG commands (and the CLI) ask of a call. Every
 * change runs on the call's queue in three steps: plan (dialogue, codecs, ports to allocate;
 * nothing changes), allocate into scratch state, commit synchronously. A failure in the first
 * two leaves the call exactly as it was.
 */

/** Runs a planned exchange to its end: scratch ports, then the commit; returns the receiver's SDP. */
async function carryOut(s: Services, call: Call, plan: ExchangePlan, dialogue: Dialogue, isNew = false): Promise<string> {
  checkTranscodeLimit(s, call, plan, dialogue, isNew);
  const ports = await allocateExchange(s, call, plan, dialogue);
  // Nothing below refuses the change: a foreign call becomes ours (active-switchover) as it changes.
  if (call.foreign) s.hooks.takeOver(call);
  const { sdp } = commitExchange(s, call, plan, dialogue, ports);
  await afterSignalling(s, call);
  return sdp;
}

/** `offer`: creates the call (within `max-sessions`) or changes it; returns the SDP for the callee side. */
export async function offer(s: Services, opts: OfferAnswerOptions, source: string): Promise<string> {
  const sd = parseSdp(opts.sdp);
  // Loop protection: an SDP this relay wrote already goes back as it came.
  if (opts.loopProtect && isLooped(sd)) return opts.sdp;
  let call = s.registry.get(opts.callId);
  if (call?.deleted) {
    // A new dialogue reusing a call-id that is in its delete-delay: start afresh.
    s.registry.destroy(call, 'deleted', false);
    call = undefined;
  }
  const isNew = !call;
  if (!call) {
    const max = s.limits.maxSessions;
    if (max >= 0 && s.registry.count().own >= max) {
      s.registry.stats.rejectedSessions++;
      throw new SessionLimitError();
    }
    call = s.registry.create(opts.callId, false);
    call.createdFrom = source;
    call.ownerId = s.config.nodeId;
  }
  const c = call;
  return c.serialize(async () => {
    if (c.destroyed) throw new CallGoneError();
    try {
      return await carryOut(s, c, ...planOffer(s, c, opts, sd), isNew);
    } catch (e) {
      // A call this offer created does not outlive its failure.
      if (isNew) s.registry.destroy(c, 'error');
      throw e;
    }
  });
}

function planOffer(s: Services, call: Call, opts: OfferAnswerOptions, sd: SessionDescription): [ExchangePlan, Dialogue] {
  for (const name of opts.direction) if (!s.interfaces.has(name)) throw new UnknownInterfaceError(name);
  const fromIface = opts.direction[0] ?? s.interfaces.defaultName;
  const toIface = opts.direction[1] ?? opts.direction[0] ?? s.interfaces.defaultName;
  const dialogue = offerDialogue(call, opts.fromTag, opts.toTag, fromIface, toIface);
  const plan = planExchange(s, 'offer', sd, opts, {
    senderInterface: interfaceOf(dialogue.sender),
    receiverInterface: interfaceOf(dialogue.receiver),
    receiverFamily: existing(dialogue.receiver)?.family,
    senderMedias: existing(dialogue.sender)?.medias ?? [],
    receiverMedias: existing(dialogue.receiver)?.medias ?? [],
  });
  return [plan, dialogue];
}

/** `answer`: the callee side's SDP; returns the SDP for the offerer. */
export async function answer(s: Services, opts: OfferAnswerOptions): Promise<string> {
  const sd = parseSdp(opts.sdp);
  if (opts.loopProtect && isLooped(sd)) return opts.sdp;
  const call = s.registry.get(opts.callId);
  if (!call) throw new CallGoneError();
  return call.serialize(async () => {
    if (call.destroyed) throw new CallGoneError();
    const dialogue = answerDialogue(call, opts.fromTag, opts.toTag!);
    const offerer = existing(dialogue.receiver)!;
    const plan = planExchange(s, 'answer', sd, opts, {
      senderInterface: interfaceOf(dialogue.sender),
      receiverInterface: offerer.interfaceName,
      receiverFamily: offerer.family,
      senderMedias: existing(dialogue.sender)?.medias ?? offerer.peer?.medias ?? [],
      receiverMedias: offerer.medias,
    });
    return carryOut(s, call, plan, dialogue);
  });
}

/**
 * `delete`: ends the call, or with tags only the branch they name (and any party left with no
 * partner) when more than one dialogue remains. Media stops now, sockets stay for `delaySec`.
 * `report` is taken before anything goes. Null when no call matches the id and tags.
 */
export async function deleteCall<T>(s: Services, callId: string, fromTag: string | undefined, toTag: string | undefined, viaBranch: string | undefined, delaySec: number | undefined, report: (call: Call) => T): Promise<T | null> {
  const call = s.registry.get(callId);
  // A call already marked deleted still answers (a retransmitted BYE), as in rtpengine.
  if (!call || (fromTag && !call.findByTag(fromTag)) || (toTag && !call.findByTag(toTag))) return null;
  return call.serialize(async () => {
    if (call.foreign) {
      // The takeover record must reach Redis before the DEL, so the old owner yields first.
      s.hooks.takeOver(call);
      await s.hooks.flushed(call);
    }
    const reply = report(call);
    if (call.destroyed) return reply;
    // One fork of an offer (its via-branch, no to-tag) while others are still open: as rtpengine
    // deletes that branch's callee side alone, the call goes on for the other branches.
    if (fromTag && toTag === undefined && viaBranch && !call.foreign && call.pending !== null && openBranchesAfter(call.findByTag(fromTag), viaBranch) > 0) {
      s.registry.changed(call);
      await committed(s, call);
      return reply;
    }
    // Only own calls with more parties than one dialogue (a fork, a re-tagged re-INVITE) have branches.
    const tagged = fromTag && !call.foreign && call.parties().length > 2 ? call.findByTag(toTag ?? fromTag) : undefined;
    const branch = tagged && !call.deleted ? call.branchRemoval(tagged) : null;
    if (branch) {
      call.removeParties(branch);
      linkSubscriptions(call);
      s.registry.changed(call);
      await committed(s, call);
      return reply;
    }
    // A recording gets the packets relayed until now before media stops (media threads hand them over).
    if (call.recording) await s.media.caughtUp();
    if (call.destroyed) return reply;
    s.registry.markDeleted(call, (delaySec ?? s.limits.deleteDelay) * 1000);
    // The reply goes once media has stopped (and with no delay, the ports are free again).
    await committed(s, call);
    return reply;
  });
}

/** Forgets the offer on `branch` in each of the offerer's media sections: how many branches stay open (0: that was the last, or not one). */
function openBranchesAfter(offerer: Monologue | undefined, branch: string): number {
  let open = 0;
  for (const m of offerer?.medias ?? []) if (m.muxByBranch.decision(branch) !== undefined) open = Math.max(open, m.muxByBranch.forget(branch));
  return open;
}

/** Ends a call on the operator's word (CLI `terminate`), in line with its other changes. */
export function terminate(s: Services, call: Call): Promise<void> {
  return call.serialize(async () => {
    if (call.recording) await s.media.caughtUp();
    s.registry.destroy(call, 'terminated');
  });
}

/** `start recording`: packets relayed after the answer are recorded (a paused recording goes on). */
export function startRecording(s: Services, call: Call): Promise<void> {
  return call.serialize(async () => {
    if (call.destroyed) throw new CallGoneError();
    call.recordRequested = true;
    s.hooks.startRecording(call);
    await s.media.settled();
  });
}

/**
 * `stop recording`: copies of packets relayed before it are still written. As in rtpengine,
 * the recording goes on while forwarding is on for the call or a party.
 */
export function stopRecording(s: Services, call: Call): Promise<void> {
  return call.serialize(async () => {
    call.recordRequested = false;
    if (call.forwarding) return;
    if (call.recording) await s.media.caughtUp();
    s.hooks.stopRecording(call);
  });
}

/** `pause recording`: no packet is written from now on, the file stays open for `start recording`. */
export function pauseRecording(s: Services, call: Call): Promise<void> {
  return call.serialize(async () => {
    call.recordRequested = false;
    if (call.forwarding) return;
    if (call.recording) await s.media.caughtUp();
    s.hooks.pauseRecording(call);
  });
}

/**
 * After signalling: persist (bounded wait), and let the media plane apply what changed (a
 * moved endpoint must not keep going to the old one through the kernel once we have replied).
 */
export async function afterSignalling(s: Services, call: Call): Promise<void> {
  s.registry.changed(call);
  await committed(s, call);
}

/** What a reply waits for: the media plane has applied the change, and the call's state is in Redis (bounded wait). */
export function committed(s: Services, call: Call): Promise<unknown> {
  const flushed = s.hooks.flushed(call);
  const settled = s.media.settled();
  // Without a store (or with nothing to wait for) no combined promise is made: this runs for every command.
  if (flushed === SETTLED) return settled;
  if (settled === SETTLED) return flushed;
  return Promise.all([flushed, settled]);
}
