import { callReport } from '../../call/CallReport.js';
import { deleteCall } from '../../call/Signalling.js';
import type { Services } from '../../Services.js';
import { reportSink } from '../codec.js';
import { NgError, NgErrorText } from '../errors.js';
import type { NgDict, NgRequest } from '../NgRequest.js';

/**
 * Ends a call (or, with tags, the dialogue they name). An unknown call is a success with a
 * warning unless the `fatal` flag is set.
 */
export async function del(s: Services, req: NgRequest): Promise<NgDict> {
  const callId = req.callId;
  if (!callId) throw new NgError(NgErrorText.noCallId);
  const toTag = req.has('to-tag') ? req.toTag : undefined;
  const report = (call: Parameters<typeof callReport>[0]): NgDict => (req.has('fast') ? {} : callReport(call, undefined, reportSink(req.wire?.encoding)));
  const reply = await deleteCall(s, callId, req.fromTag, toTag, req.viaBranch, req.int('delete-delay'), report);
  if (reply) return reply;
  if (req.has('fatal')) throw new NgError(NgErrorText.notFound);
  return { warning: NgErrorText.notFound, result: 'ok' };
}
