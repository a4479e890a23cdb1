import * as signalling from '../../call/Signalling.js';
import type { Services } from '../../Services.js';
import type { NgDict, NgRequest } from '../NgRequest.js';
import { requireCall } from './checks.js';

/** Answered once the media threads copy the call's packets: what is relayed after the reply is recorded. */
export async function startRecording(s: Services, req: NgRequest): Promise<NgDict> {
  await signalling.startRecording(s, requireCall(s, req));
  return {};
}

/** Copies of packets relayed before the command are still written: media threads hand them over first. */
export async function stopRecording(s: Services, req: NgRequest): Promise<NgDict> {
  await signalling.stopRecording(s, requireCall(s, req));
  return {};
}
