import { ALAW_DECODE, ALAW_ENCODE, ALAW_SILENCE } from '../codecs/Pcma.js';
import { ULAW_DECODE, ULAW_ENCODE, ULAW_SILENCE } from '../codecs/Pcmu.js';
import type { MediaControl } from '../MediaControl.js';
import { threadTotals, TOTAL_BLOCKED, TOTAL_DTMF_BLOCKED, TOTAL_SILENCED } from '../MediaCounters.js';
import { detectDtmf, dtmfFrequencies } from './DtmfDetector.js';
import { OpusSilence } from './OpusSilence.js';

/** What a payload type of the party carries, as far as blocking and silencing care. */
const OTHER = 0;
const PCMU = 1;
const PCMA = 2;
const G722 = 3;
const OPUS = 4;
const EVENT = 5;

/** rtpengine's G.722 silence byte (its decoder settles near -44 dBov on it). */
const G722_SILENCE = 0xfa;
/** In-band DTMF keeps being replaced this long after the last frame it was heard in (ms): its edges. */
const INBAND_HANGOVER_MS = 60;
/** Largest G.711 payload looked at for in-band DTMF (60 ms). */
const MAX_INBAND = 480;
/** Peak of a 0 dBm0 sine in 16-bit linear audio (G.711's reference level). */
const DBM0_PEAK = 22_900;
/** rtpengine's replacement tone level: -10 dBm0. */
const TONE_PEAK = DBM0_PEAK * 10 ** (-10 / 20);

function kindOf(encoding: string, clock: number): number {
  switch (encoding.toLowerCase()) {
    case 'pcmu':
      return clock === 8000 ? PCMU : OTHER;
    case 'pcma':
      return clock === 8000 ? PCMA : OTHER;
    case 'g722':
      return G722;
    case 'opus':
      return OPUS;
    case 'telephone-event':
      return EVENT;
    default:
      return OTHER;
  }
}

/**
 * A leg's media control applied to the RTP its party sends (rtpengine's block/silence media
 * and block DTMF): drops packets, rewrites RFC 4733 events, and overwrites audio payloads in
 * place with silence (G.711, G.722 byte patterns; opus silence frames) or, for in-band DTMF
 * in G.711, silence, a tone or noise. Built at signalling time; per packet it allocates nothing
 * but an opus silence packet the first time a frame layout is seen.
 */
export class MediaFilter {
  private readonly kinds = new Uint8Array(128);
  private readonly opus: OpusSilence | null;
  private readonly inband: boolean;
  private readonly pcm = new Int16Array(MAX_INBAND);
  /** Epoch ms until which in-band audio is replaced (a digit was heard). */
  private replaceUntil = 0;
  private readonly hasEvents: boolean;
  /** Sample count of the replacement so far: the phase of its tones. */
  private sample = 0;
  /** The digit `random` mode plays over the current in-band digit. */
  private randomDigit = 0;
  private seed = 0x2545f491;

  constructor(readonly control: MediaControl) {
    for (const f of control.formats) if (f.pt >= 0 && f.pt <= 127) this.kinds[f.pt] = kindOf(f.encoding, f.clock);
    this.opus = control.silence && control.formats.some((f) => kindOf(f.encoding, f.clock) === OPUS) ? new OpusSilence() : null;
    this.inband = control.dtmf !== 'off' && control.dtmf !== 'drop';
    this.hasEvents = control.formats.some((f) => kindOf(f.encoding, f.clock) === EVENT);
  }

  /**
   * The packet to relay in place of `p` (plain RTP): `p` itself, changed in place, or null to
   * drop it. Anything that is not a well-formed RTP packet is left as it is.
   */
  apply(p: Buffer, now: number): Buffer | null {
    const c = this.control;
    if (c.blockMedia) {
      threadTotals[TOTAL_BLOCKED]!++;
      return null;
    }
    const length = p.length;
    if (length < 12 || p[0]! >> 6 !== 2) return p;
    let start = 12 + 4 * (p[0]! & 0x0f);
    if ((p[0]! & 0x10) !== 0) {
      if (start + 4 > length) return p;
      start += 4 + 4 * ((p[start + 2]! << 8) | p[start + 3]!);
    }
    let end = length;
    if ((p[0]! & 0x20) !== 0 && length > start) end -= p[length - 1]!;
    if (end <= start) return p;
    const kind = this.kinds[p[1]! & 0x7f]!;
    if (kind === EVENT) return this.event(p, start);
    if (this.inband && (kind === PCMU || kind === PCMA) && this.inbandDtmf(p, start, end, kind, now)) {
      threadTotals[TOTAL_DTMF_BLOCKED]!++;
      return p;
    }
    if (c.silence) {
      threadTotals[TOTAL_SILENCED]!++;
      return this.silence(p, kind, start, end);
    }
    return p;
  }

  private event(p: Buffer, start: number): Buffer | null {
    if (this.control.dtmf === 'off') return p;
    threadTotals[TOTAL_DTMF_BLOCKED]!++;
    switch (this.control.dtmf) {
      case 'zero':
        p[start] = 0;
        return p;
      case 'dtmf':
        p[start] = this.control.digit;
        return p;
      default:
        return null;
    }
  }

  private silence(p: Buffer, kind: number, start: number, end: number): Buffer {
    switch (kind) {
      case PCMU:
        p.fill(ULAW_SILENCE, start, end);
        return p;
      case PCMA:
        p.fill(ALAW_SILENCE, start, end);
        return p;
      case G722:
        p.fill(G722_SILENCE, start, end);
        return p;
      case OPUS:
        return this.opusSilence(p, start, end);
      default:
        return p;
    }
  }

  /** The opus payload becomes a silence packet of the same duration; the bytes left over become RTP padding. */
  private opusSilence(p: Buffer, start: number, end: number): Buffer {
    const s = this.opus?.packetFor(p, start, end - start) ?? null;
    if (s === null || start + s.length > p.length) return p;
    p.set(s, start);
    const pad = p.length - start - s.length;
    if (pad === 0) {
      p[0] = p[0]! & ~0x20;
      return p;
    }
    if (pad <= 255) {
      p.fill(0, start + s.length, p.length - 1);
      p[p.length - 1] = pad;
      p[0] = p[0]! | 0x20;
      return p;
    }
    // More left over than padding can say (a very high bitrate): the packet is cut short.
    p[0] = p[0]! & ~0x20;
    return p.subarray(0, start + s.length);
  }

  /**
   * In-band DTMF in a G.711 payload, replaced while heard (and a little after) as rtpengine
   * replaces it: silence, its tone (400 Hz by default), a random digit, or the digit of `zero`
   * and `dtmf` modes (silence when the party can send events). True when replaced.
   */
  private inbandDtmf(p: Buffer, start: number, end: number, kind: number, now: number): boolean {
    const n = Math.min(end - start, MAX_INBAND);
    const decode = kind === PCMU ? ULAW_DECODE : ALAW_DECODE;
    const pcm = this.pcm;
    for (let i = 0; i < n; i++) pcm[i] = decode[p[start + i]!]!;
    if (detectDtmf(pcm, n) >= 0) {
      if (now >= this.replaceUntil) this.startReplacement();
      this.replaceUntil = now + INBAND_HANGOVER_MS;
    } else if (now >= this.replaceUntil) return false;
    const mode = this.control.dtmf;
    const digit = mode === 'random' ? this.randomDigit : mode === 'zero' ? 0 : mode === 'dtmf' ? this.control.digit : -1;
    if (mode === 'tone') this.fillTones(p, start, n, kind, this.control.toneFrequency, 0);
    else if (digit >= 0 && !(mode !== 'random' && this.hasEvents)) {
      const [row, col] = dtmfFrequencies(digit);
      this.fillTones(p, start, n, kind, row, col);
    } else p.fill(kind === PCMU ? ULAW_SILENCE : ALAW_SILENCE, start, end);
    return true;
  }

  private startReplacement(): void {
    this.sample = 0;
    // xorshift32: a digit for `random` mode without a generator object.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x;
    this.randomDigit = (x >>> 0) % 10;
  }

  /** One tone (`f2` 0) or two at -10 dBm0 (each -13 dBm0 when two), continuing the replacement's phase. */
  private fillTones(p: Buffer, start: number, n: number, kind: number, f1: number, f2: number): void {
    const encode = kind === PCMU ? ULAW_ENCODE : ALAW_ENCODE;
    const w1 = (2 * Math.PI * f1) / 8000;
    const w2 = (2 * Math.PI * f2) / 8000;
    const a = f2 === 0 ? TONE_PEAK : TONE_PEAK / Math.SQRT2;
    for (let i = 0; i < n; i++, this.sample++) {
      const v = a * Math.sin(w1 * this.sample) + (f2 === 0 ? 0 : a * Math.sin(w2 * this.sample));
      p[start + i] = encode[Math.round(v) & 0xffff]!;
    }
  }

  close(): void {
    this.opus?.close();
  }
}
