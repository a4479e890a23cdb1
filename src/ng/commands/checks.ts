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
