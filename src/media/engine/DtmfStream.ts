import type { DtmfSource } from './PlaybackSettings.js';
import { AUDIO, END, EVENT, type EventFrame, type FrameKind, type PlaybackStream } from './PlaybackStream.js';

/** The row and column frequencies of each event code 0-15 (`0-9*#A-D`), ITU-T Q.23. */
const LOW = [941, 697, 697, 697, 770, 770, 770, 852, 852, 852, 941, 941, 697, 770, 852, 941];
const HIGH = [1336, 1209, 1336, 1477, 1209, 1336, 1477, 1209, 1336, 1477, 1209, 1477, 1633, 1633, 1633, 1633];

/** Peak of a 0 dBm0 sine in 16-bit linear (G.711's 3.14 dBm0 full scale). */
const DBM0_PEAK = 32767 * 10 ** (-3.14 / 20);

/** RFC 4733 §2.5.1.4: the end of an event is sent three times. */
const END_PACKETS = 3;

/**
 * Digits as rtpengine plays them: each a tone of `durationMs`, then `pauseMs` of silence before
 * the next one. With `events` they come as RFC 4733 event frames (the end repeated three
 * times); otherwise as the digit's two sines at `volume` -dBm0 each.
 */
export class DtmfStream implements PlaybackStream {
  /** ms into the whole run. */
  private at = 0;
  private readonly digitMs: number;
  /** ms of a digit that go out before the pause (the tone, and the repeated ends of an event). */
  private readonly tail: number;
  private phaseLow = 0;
  private phaseHigh = 0;
  private readonly amplitude: number;

  constructor(
    private readonly src: DtmfSource,
    private readonly rate: number,
    private readonly frameMs: number,
    private readonly events: boolean,
  ) {
    this.digitMs = src.durationMs + src.pauseMs;
    const toneEnd = Math.ceil(src.durationMs / frameMs) * frameMs;
    this.tail = events ? toneEnd + (END_PACKETS - 1) * frameMs : toneEnd;
    this.amplitude = DBM0_PEAK * 10 ** (-src.volume / 20);
  }

  next(pcm: Int16Array, samples: number, ev: EventFrame): FrameKind {
    const digit = Math.floor(this.at / this.digitMs);
    if (digit >= this.src.events.length) return END;
    const into = this.at - digit * this.digitMs;
    // The pause separates digits: after the last one the party's stream comes back at once.
    if (digit === this.src.events.length - 1 && into >= this.tail) return END;
    const code = this.src.events[digit]!;
    this.at += this.frameMs;
    const tone = into < this.src.durationMs;
    if (this.events) {
      const endAt = Math.ceil(this.src.durationMs / this.frameMs) * this.frameMs;
      if (tone || into < endAt + (END_PACKETS - 1) * this.frameMs) {
        ev.event = code;
        ev.volume = this.src.volume;
        ev.start = into === 0;
        ev.durationMs = Math.min(into + this.frameMs, this.src.durationMs);
        ev.end = into + this.frameMs >= this.src.durationMs;
        return EVENT;
      }
    } else if (tone) {
      const n = Math.min(samples, Math.round(((this.src.durationMs - into) * this.rate) / 1000));
      this.sines(pcm, n, code);
      for (let i = n; i < samples; i++) pcm[i] = 0;
      return AUDIO;
    }
    this.phaseLow = this.phaseHigh = 0;
    pcm.fill(0, 0, samples);
    return AUDIO;
  }

  advance(ms: number): void {
    this.at += Math.floor(ms / this.frameMs) * this.frameMs;
  }

  private sines(pcm: Int16Array, n: number, code: number): void {
    const wl = (2 * Math.PI * LOW[code]!) / this.rate;
    const wh = (2 * Math.PI * HIGH[code]!) / this.rate;
    const a = this.amplitude;
    let pl = this.phaseLow;
    let ph = this.phaseHigh;
    for (let i = 0; i < n; i++) {
      const v = Math.round(a * (Math.sin(pl) + Math.sin(ph)));
      pcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      pl += wl;
      ph += wh;
    }
    this.phaseLow = pl % (2 * Math.PI);
    this.phaseHigh = ph % (2 * Math.PI);
  }
}
