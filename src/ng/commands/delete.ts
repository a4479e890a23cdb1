import { callReport } from '../../call/CallReport.js';
import type { Services } from '../../Services.js';
import { reportSink } from '../codec.js';
import { NgError, NgErrorText } from '../errors.js';
import { committed } from './checks.js';
import type { NgDict, NgRequest } from '../NgRequest.js';

/**
 * Ends a call (or, with tags, the dialogue they name). Media stops now; sockets stay for
 * `delete-delay`. An unknown call is a success with a warning unless the `fatal` flag is set.
 */
export async function del(s: Services, req: NgRequest): Promise<NgDict> {
  const callId = req.callId;
  if (!callId) throw new NgError(NgErrorText.noCallId);
  const call = s.registry.get(callId);
  const fromTag = req.fromTag;
  const toTag = req.has('to-tag') ? req.toTag : undefined;
  // A call already marked deleted still answers (a retransmitted BYE), as in rtpengine.
  const matches = call && (!fromTag || call.findByTag(fromTag)) && (!toTag || call.findByTag(toTag));
  if (!call || !matches) {
    if (req.has('fatal')) throw new NgError(NgErrorText.notFound);
    return { warning: NgErrorText.notFound, result: 'ok' };
  }
  return call.serialize(async () => {
    if (call.foreign) {
      // The takeover record must reach Redis before the DEL, so the old owner yields first.
      s.hooks.takeOver(call);
      await s.hooks.flushed(call);
    }
    const reply = req.has('fast') ? {} : callReport(call, undefined, reportSink(req.wire?.encoding));
    // With a tag, only that branch goes (and any party left with no partner), as rtpengine
    // does; the whole call goes when fewer than two parties would be left.
    // Only own calls with more parties than one dialogue (a fork, a re-tagged re-INVITE) have branches.
    const tagged = fromTag && !call.foreign && call.parties().length > 2 ? call.findByTag(toTag ?? fromTag) : undefined;
    const branch = tagged && !call.deleted ? call.branchRemoval(tagged) : null;
    if (branch) {
      call.removeParties(branch);
      s.registry.changed(call);
      await committed(s, call);
      return reply;
    }
    const delay = req.int('delete-delay') ?? s.limits.deleteDelay;
    // A recording gets the packets relayed until now before media stops (media threads hand them over).
    if (call.recording) await s.media.caughtUp();
    s.registry.markDeleted(call, delay * 1000);
    // The reply goes once media has stopped (and with no delay, the ports are free again).
    await committed(s, call);
    return reply;
  });
}
