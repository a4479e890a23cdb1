import type { Services } from '../Services.js';
import { moduleLogger } from '../log.js';
import { NgError, NgErrorText, toNgError } from './errors.js';
import type { NgDict, NgRequest } from './NgRequest.js';
import { answer } from './commands/answer.js';
import { del } from './commands/delete.js';
import { list } from './commands/list.js';
import * as mediaControl from './commands/mediaControl.js';
import { offer } from './commands/offer.js';
import { ping } from './commands/ping.js';
import { playDtmf, playMedia, stopMedia } from './commands/playback.js';
import { query } from './commands/query.js';
import { pauseRecording, startRecording, stopRecording } from './commands/recording.js';
import { statistics } from './commands/statistics.js';
import { publish, subscribeAnswer, subscribeRequest, unsubscribe } from './commands/subscribe.js';

const log = moduleLogger('ng');

type Handler = (s: Services, req: NgRequest) => NgDict | Promise<NgDict>;

/** A Map: a command named after a built-in property (`constructor`, `__proto__`) must find nothing. */
const COMMANDS = new Map<string, Handler>([
  ['ping', ping],
  ['offer', offer],
  ['answer', answer],
  ['delete', del],
  ['query', query],
  ['list', list],
  ['statistics', statistics],
  ['start recording', startRecording],
  ['stop recording', stopRecording],
  ['play media', playMedia],
  ['stop media', stopMedia],
  ['play DTMF', playDtmf],
  ['pause recording', pauseRecording],
  ['start forwarding', mediaControl.startForwarding],
  ['stop forwarding', mediaControl.stopForwarding],
  ['block DTMF', mediaControl.blockDtmf],
  ['unblock DTMF', mediaControl.unblockDtmf],
  ['block media', mediaControl.blockMedia],
  ['unblock media', mediaControl.unblockMedia],
  ['silence media', mediaControl.silenceMedia],
  ['unsilence media', mediaControl.unsilenceMedia],
  ['publish', publish],
  ['subscribe request', subscribeRequest],
  ['subscribe answer', subscribeAnswer],
  ['unsubscribe', unsubscribe],
]);

/** The commands this relay implements, as they arrive in the `command` key. */
export const NG_COMMANDS: readonly string[] = [...COMMANDS.keys()];

/** Runs one NG command and turns the outcome into a reply dict; the one place errors meet the wire. */
export async function dispatch(s: Services, req: NgRequest): Promise<NgDict> {
  const command = req.command;
  const started = process.hrtime.bigint();
  let ok = false;
  try {
    if (command === undefined) throw new NgError(NgErrorText.noCommand);
    const handler = COMMANDS.get(command);
    if (!handler) throw new NgError(NgErrorText.unknownCommand);
    const reply = await handler(s, req);
    ok = true;
    if (reply['result'] === undefined) reply['result'] = 'ok';
    return reply;
  } catch (caught) {
    const ng = toNgError(caught);
    if (ng) {
      const e = ng;
      // The call layer's own message, when it says more than the NG text (a gone call says nothing more).
      const detail = caught === ng ? '' : (caught as Error).message;
      log.info({ command, callId: req.callId, reason: e.message, detail: detail === '' || detail === e.message ? undefined : detail }, 'NG command failed');
      if (e.loadLimit && req.list('supports').includes('load-limit')) return { result: 'load limit', message: e.message };
      return { result: 'error', 'error-reason': e.message };
    }
    // Whatever the command left half-done, its call does not live on with it.
    const call = req.callId === undefined ? undefined : s.registry.get(req.callId);
    if (call) s.registry.contain(call, caught, `NG ${command}`);
    else {
      s.registry.stats.internalErrors++;
      log.error({ command, callId: req.callId, err: (caught as Error).stack }, 'internal error in NG command');
    }
    return { result: 'error', 'error-reason': `Internal error: ${(caught as Error).message}` };
  } finally {
    const proxy = req.source.slice(0, req.source.lastIndexOf(':'));
    s.registry.stats.control.count(proxy, command, ok, Number(process.hrtime.bigint() - started) / 1e9);
  }
}
