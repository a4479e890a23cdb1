import * as signalling from '../../call/Signalling.js';
import type { Services } from '../../Services.js';
import type { NgDict, NgRequest } from '../NgRequest.js';
import { requireCall } from './checks.js';

/** Answered once the media threads copy the call's packets: what is relayed after the reply is recorded. */
export async function startRecording(s: Services, req: NgRequest): Promise<NgDict> {
  await signalling.startRecording(s, requireCall(s, req));
  return {};
}

/**
 * Copies of packets relayed before the command are still written: media threads hand them over
 * first. With flag `pause` or key `pause: yes` it pauses instead (rtpengine's master branch).
 */
export async function stopRecording(s: Services, req: NgRequest): Promise<NgDict> {
  const call = requireCall(s, req);
  const pause = req.has('pause') || ['yes', 'on', 'true'].includes(req.str('pause') ?? '');
  await (pause ? signalling.pauseRecording(s, call) : signalling.stopRecording(s, call));
  return {};
}

/** `pause recording` (rtpengine's master branch): nothing more is written, the recording stays open for `start recording`. */
export async function pauseRecording(s: Services, req: NgRequest): Promise<NgDict> {
  await signalling.pauseRecording(s, requireCall(s, req));
  return {};
}
