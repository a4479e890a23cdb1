import { offer as offerSdp } from '../../call/Signalling.js';
import { trickle } from '../../call/Trickle.js';
import type { Services } from '../../Services.js';
import { parseOfferAnswer } from '../flags.js';
import type { NgDict, NgRequest } from '../NgRequest.js';

export async function offer(s: Services, req: NgRequest): Promise<NgDict> {
  const opts = parseOfferAnswer(req, 'offer');
  // A trickle ICE fragment changes candidates only; the reply carries no SDP (as rtpengine's).
  if (opts.fragment) {
    await trickle(s, opts);
    return {};
  }
  return { sdp: await offerSdp(s, opts, req.source) };
}
