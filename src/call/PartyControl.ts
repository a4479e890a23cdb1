import type { DtmfBlockMode, MediaControl } from '../media/MediaControl.js';
import type { PayloadFormat } from '../media/engine/TranscodeSettings.js';

/**
 * Media control set by NG commands on a whole call or on one party (rtpengine's `block DTMF`,
 * `block media`, `silence media`, `start forwarding`): what the party sends is blocked,
 * silenced or has its DTMF removed. Kept in the call's record, so a restart or takeover keeps it.
 */
export interface PartyControl {
  blockDtmf: DtmfBlockMode;
  blockMedia: boolean;
  silenceMedia: boolean;
  /** `start forwarding`: the party's media is to be copied to a recording daemon. */
  forwarding: boolean;
  /** Digit (event code 0-15) of `DTMF-security: DTMF`. */
  dtmfDigit: number;
  /** Tone of `DTMF-security: tone`, Hz (`frequency`). */
  toneFrequency: number;
}

/** rtpengine's replacement tone when `frequency` is not given. */
export const DEFAULT_TONE_HZ = 400;

export function newPartyControl(): PartyControl {
  return { blockDtmf: 'off', blockMedia: false, silenceMedia: false, forwarding: false, dtmfDigit: 0, toneFrequency: DEFAULT_TONE_HZ };
}

/**
 * What a party's legs do, from the call's control and the party's own: the call's DTMF mode
 * wins when set (rtpengine's `dtmf_get_block_mode`); blocking and silencing apply when either asks.
 */
export function legControl(call: PartyControl, party: PartyControl, formats: PayloadFormat[]): MediaControl {
  return {
    blockMedia: call.blockMedia || party.blockMedia,
    silence: call.silenceMedia || party.silenceMedia,
    dtmf: call.blockDtmf !== 'off' ? call.blockDtmf : party.blockDtmf,
    digit: party.dtmfDigit,
    toneFrequency: party.toneFrequency,
    formats,
  };
}

const MODES = new Set<string>(['off', 'drop', 'silence', 'tone', 'random', 'zero', 'dtmf']);

/** A control read from a record (another relay's, maybe hostile): checked, else the default. */
export function partyControlOf(v: unknown): PartyControl {
  const out = newPartyControl();
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return out;
  const r = v as Record<string, unknown>;
  if (typeof r['blockDtmf'] === 'string' && MODES.has(r['blockDtmf'])) out.blockDtmf = r['blockDtmf'] as DtmfBlockMode;
  out.blockMedia = r['blockMedia'] === true;
  out.silenceMedia = r['silenceMedia'] === true;
  out.forwarding = r['forwarding'] === true;
  const d = r['dtmfDigit'];
  if (typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= 15) out.dtmfDigit = d;
  const f = r['toneFrequency'];
  if (typeof f === 'number' && Number.isInteger(f) && f > 0 && f < 4000) out.toneFrequency = f;
  return out;
}

/** Whether a control is the default one (records leave it out). */
export function isDefaultControl(c: PartyControl): boolean {
  return c.blockDtmf === 'off' && !c.blockMedia && !c.silenceMedia && !c.forwarding && c.dtmfDigit === 0 && c.toneFrequency === DEFAULT_TONE_HZ;
}
