import type { Call } from '../../call/Call.js';
import { changeControl, setForwarding, type ControlScope } from '../../call/MediaControls.js';
import type { PartyControl } from '../../call/PartyControl.js';
import { CallGoneError } from '../../call/errors.js';
import { selectOne } from '../../call/PartySelector.js';
import { eventOfDigit } from '../../media/codecs/TelephoneEvent.js';
import { DTMF_BLOCK_MODES, type DtmfBlockMode } from '../../media/MediaControl.js';
import type { Services } from '../../Services.js';
import { NgError, NgErrorText } from '../errors.js';
import type { NgDict, NgRequest } from '../NgRequest.js';

/**
 * `block DTMF`, `block media`, `silence media`, `start forwarding` and their opposites, as
 * rtpengine 10.5 reads them: the call by `call-id`, then the whole call (flag `all`, or no
 * party named) or one party by `label`, `address` (its SDP address) or `from-tag`, in that
 * order. `to-tag` names no party here (10.5 ignores it). `set-label` labels the party found.
 */

/** The call, with 10.5's texts for these commands (`Unknown call-ID`, capital ID). */
export function controlledCall(s: Services, req: NgRequest): Call {
  const callId = req.callId;
  if (!callId) throw new NgError(NgErrorText.noCallId);
  const call = s.registry.get(callId);
  if (!call || call.destroyed) throw new NgError(NgErrorText.unknownCallIdCapital);
  return call;
}

/** The party a request names, or null for the whole call. */
export function selectParty(call: Call, req: NgRequest): ControlScope['party'] {
  if (req.has('all')) return null;
  const party = selectOne(call, { label: req.str('label') ?? req.str('from-label'), address: req.str('address'), fromTag: req.fromTag });
  const setLabel = req.str('set-label') ?? req.str('to-label');
  if (party && setLabel) party.label = setLabel;
  return party;
}

/** `clearing`: an `un…`/`stop` command, where flag `all` also clears each party's own setting (10.5). */
function scopeOf(call: Call, req: NgRequest, clearing: boolean): ControlScope {
  return { party: selectParty(call, req), everyParty: clearing && req.has('all') };
}

/** Runs a change on the call named; a call that ended meanwhile is unknown, as in rtpengine. */
async function onCall(s: Services, req: NgRequest, clearing: boolean, run: (call: Call, scope: ControlScope) => Promise<void>): Promise<NgDict> {
  const call = controlledCall(s, req);
  try {
    await run(call, scopeOf(call, req, clearing));
  } catch (e) {
    if (e instanceof CallGoneError) throw new NgError(NgErrorText.unknownCallIdCapital);
    throw e;
  }
  return {};
}

const control = (s: Services, req: NgRequest, clearing: boolean, change: (c: PartyControl) => void): Promise<NgDict> =>
  onCall(s, req, clearing, (call, scope) => changeControl(s, call, scope, change));

/** `DTMF-security`: the mode (unknown values leave the default, `drop`, as 10.5 does). */
function blockMode(req: NgRequest): DtmfBlockMode {
  const v = req.str('DTMF-security')?.toLowerCase();
  const mode = DTMF_BLOCK_MODES.find((m) => m === v);
  return mode === undefined || mode === 'off' ? 'drop' : mode;
}

/** `digit` / `code`: an event code (0-15) or one of `0-9*#A-D`; -1 when absent or neither. */
function digitOf(req: NgRequest): number {
  const v = req.raw('digit') ?? req.raw('code');
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 15 ? v : -1;
  if (typeof v === 'string') return v.length === 1 ? eventOfDigit(v) : /^\d+$/.test(v) && Number(v) <= 15 ? Number(v) : -1;
  return -1;
}

export function blockDtmf(s: Services, req: NgRequest): Promise<NgDict> {
  const mode = blockMode(req);
  const digit = mode === 'zero' ? 0 : digitOf(req);
  const frequency = req.int('frequency');
  const replacing = mode !== 'drop';
  return control(s, req, false, (c) => {
    c.blockDtmf = mode;
    // rtpengine keeps the replacement's digit and tone per party, set only by replacing modes.
    if (replacing && digit >= 0) c.dtmfDigit = digit;
    if (replacing && frequency !== undefined && frequency > 0 && frequency < 4000) c.toneFrequency = frequency;
  });
}

export function unblockDtmf(s: Services, req: NgRequest): Promise<NgDict> {
  return control(s, req, true, (c) => {
    c.blockDtmf = 'off';
  });
}

export function blockMedia(s: Services, req: NgRequest): Promise<NgDict> {
  return control(s, req, false, (c) => {
    c.blockMedia = true;
  });
}

export function unblockMedia(s: Services, req: NgRequest): Promise<NgDict> {
  return control(s, req, true, (c) => {
    c.blockMedia = false;
  });
}

export function silenceMedia(s: Services, req: NgRequest): Promise<NgDict> {
  return control(s, req, false, (c) => {
    c.silenceMedia = true;
  });
}

export function unsilenceMedia(s: Services, req: NgRequest): Promise<NgDict> {
  return control(s, req, true, (c) => {
    c.silenceMedia = false;
  });
}

const forwarding = (s: Services, req: NgRequest, on: boolean): Promise<NgDict> => onCall(s, req, !on, (call, scope) => setForwarding(s, call, scope, on));

export const startForwarding = (s: Services, req: NgRequest): Promise<NgDict> => forwarding(s, req, true);
export const stopForwarding = (s: Services, req: NgRequest): Promise<NgDict> => forwarding(s, req, false);
