import type { Services } from '../../Services.js';
import type { NgDict, NgRequest } from '../NgRequest.js';
import { requireCall } from './checks.js';

export function startRecording(s: Services, req: NgRequest): NgDict {
  const call = requireCall(s, req);
  s.hooks.startRecording(call);
  return {};
}

export function stopRecording(s: Services, req: NgRequest): NgDict {
  const call = requireCall(s, req);
  s.hooks.stopRecording(call);
  return {};
}
