import { answer as answerSdp } from '../../call/Signalling.js';
import type { Services } from '../../Services.js';
import { parseOfferAnswer } from '../flags.js';
import type { NgDict, NgRequest } from '../NgRequest.js';

export async function answer(s: Services, req: NgRequest): Promise<NgDict> {
  return { sdp: await answerSdp(s, parseOfferAnswer(req, 'answer')) };
}
