import type { PayloadFormat } from './engine/TranscodeSettings.js';

/**
 * What happens to a party's DTMF (rtpengine's `DTMF-security` modes): `drop` removes RFC 4733
 * events and leaves audio alone; `silence`, `tone` and `random` remove the events too, and
 * replace in-band DTMF in G.711 audio with silence, a tone or a random digit; `zero` and `dtmf`
 * turn every event into the digit `0` or `digit` (and in-band DTMF into that digit's tones).
 */
export type DtmfBlockMode = 'off' | 'drop' | 'silence' | 'tone' | 'random' | 'zero' | 'dtmf';

export const DTMF_BLOCK_MODES: readonly DtmfBlockMode[] = ['off', 'drop', 'silence', 'tone', 'random', 'zero', 'dtmf'];

/**
 * What a leg does to the RTP its party sends before relaying it (block/silence media, block
 * DTMF). Plain data: it crosses to media workers. Absent (null) on a leg, nothing is looked at.
 */
export interface MediaControl {
  /** `block media`: nothing the party sends is relayed (RTCP still is). */
  blockMedia: boolean;
  /** `silence media`: every audio payload is replaced by silence of the same duration in its codec. */
  silence: boolean;
  dtmf: DtmfBlockMode;
  /** Event code written into every RFC 4733 event in `dtmf` mode (0-15). */
  digit: number;
  /** Replacement tone for in-band DTMF in `tone` mode, Hz. */
  toneFrequency: number;
  /** The formats the party sends with (its own payload types). */
  formats: PayloadFormat[];
}

/** Whether a control changes anything at all (a leg without one is left alone). */
export function isActive(c: MediaControl | null): c is MediaControl {
  return c !== null && (c.blockMedia || c.silence || c.dtmf !== 'off');
}
