import { offer as offerSdp } from '../../call/Signalling.js';
import type { Services } from '../../Services.js';
import { parseOfferAnswer } from '../flags.js';
import type { NgDict, NgRequest } from '../NgRequest.js';

export async function offer(s: Services, req: NgRequest): Promise<NgDict> {
  return { sdp: await offerSdp(s, parseOfferAnswer(req, 'offer'), req.source) };
}
