import { callReport } from '../../call/CallReport.js';
import type { Services } from '../../Services.js';
import { reportSink } from '../codec.js';
import type { NgDict, NgRequest } from '../NgRequest.js';
import { requireCall } from './checks.js';

export function query(s: Services, req: NgRequest): NgDict {
  const call = requireCall(s, req);
  const tags = [req.fromTag, req.toTag].filter((t): t is string => !!t);
  return callReport(call, tags.length > 0 ? tags : undefined, reportSink(req.wire?.encoding));
}
