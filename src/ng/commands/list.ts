import type { Services } from '../../Services.js';
import { NgError, NgErrorText } from '../errors.js';
import type { NgDict, NgRequest } from '../NgRequest.js';

export function list(s: Services, req: NgRequest): NgDict {
  // rtpengine reads the limit with atoi(): junk counts as 0.
  const raw = req.str('limit');
  const limit = raw === undefined ? 32 : Number.parseInt(raw, 10) || 0;
  if (limit < 0) throw new NgError(NgErrorText.invalidLimit);
  return { calls: s.registry.all().slice(0, limit).map((c) => c.callId) };
}
