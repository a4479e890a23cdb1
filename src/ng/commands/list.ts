import type { Services } from '../../Services.js';
import { NgError, NgErrorText } from '../errors.js';
import type { NgDict, NgRequest } from '../NgRequest.js';

/** The ids one reply datagram can carry, with room for the cookie and the dict around them. */
const LIST_REPLY_BUDGET = 60_000;

export function list(s: Services, req: NgRequest): NgDict {
  // rtpengine reads the limit with atoi(): junk counts as 0.
  const raw = req.str('limit');
  const limit = raw === undefined ? 32 : Number.parseInt(raw, 10) || 0;
  if (limit < 0) throw new NgError(NgErrorText.invalidLimit);
  const calls: string[] = [];
  let bytes = 0;
  for (const c of s.registry.all()) {
    if (calls.length >= limit) break;
    // Each id costs its length, the length's digits and a colon in bencode (more in JSON).
    const len = Buffer.byteLength(c.callId);
    bytes += len + String(len).length + 4;
    if (bytes > LIST_REPLY_BUDGET) break;
    calls.push(c.callId);
  }
  return { calls };
}
