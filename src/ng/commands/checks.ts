import type { Call } from '../../call/Call.js';
import type { Services } from '../../Services.js';
import { NgError, NgErrorText } from '../errors.js';
import type { NgRequest } from '../NgRequest.js';

export function requireCall(s: Services, req: NgRequest): Call {
  const callId = req.callId;
  if (!callId) throw new NgError(NgErrorText.noCallId);
  const call = s.registry.get(callId);
  if (!call) throw new NgError(NgErrorText.unknownCallId);
  return call;
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
export async function committed(s: Services, call: Call): Promise<void> {
  await Promise.all([s.hooks.flushed(call), s.media.settled()]);
}
