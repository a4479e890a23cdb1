import { durationMs, type DtmfDigit } from '../DtmfReport.js';
import { rtpHeaderLength } from '../transforms/RtpHeader.js';
import { readTelephoneEvent, type TelephoneEvent } from '../codecs/TelephoneEvent.js';

/**
 * Finds the digits a party sends as RFC 4733 events, one per event, as rtpengine reports
 * them: at the first packet with the end bit; repeated ends (same RTP timestamp) are the same
 * digit. Looks at the payload type only of other packets and allocates nothing.
 */
export class DtmfEnds {
  /** Clock rate by payload type; 0: not a telephone-event format. */
  private readonly clocks = new Int32Array(128);
  /** RTP timestamp of the last event reported (-1: none yet). */
  private lastTs = -1;
  /** The digit of the last `ended` that returned true. */
  readonly digit: DtmfDigit = { event: 0, durationMs: 0, volume: 0 };
  private readonly te: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 };

  constructor(events: readonly { pt: number; clock: number }[]) {
    for (const e of events) this.clocks[e.pt & 0x7f] = e.clock;
  }

  /** Whether plain RTP `p` ends an event not reported yet; `digit` then holds it. */
  ended(p: Uint8Array, length: number): boolean {
    if (length < 16) return false;
    const clock = this.clocks[p[1]! & 0x7f]!;
    if (clock === 0) return false;
    const off = rtpHeaderLength(p, length);
    const te = this.te;
    if (off < 0 || !readTelephoneEvent(p, off, length - off, te) || !te.end) return false;
    const ts = ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0;
    if (ts === this.lastTs) return false;
    this.lastTs = ts;
    this.digit.event = te.event;
    this.digit.volume = te.volume;
    this.digit.durationMs = durationMs(te.duration, clock);
    return true;
  }
}
