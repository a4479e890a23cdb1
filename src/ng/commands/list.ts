import type { Services } from '../../Services.js';
import { NgError, NgErrorText } from '../errors.js';
import type { NgDict, NgRequest } from '../NgRequest.js';

export function list(s: Services, req: NgRequest): NgDict {
  const limit = req.int('limit') ?? 32;
  if (limit < 0) throw new NgError(NgErrorText.invalidLimit);
  return { calls: s.registry.all().slice(0, limit).map((c) => c.callId) };
}
