import { writeDtmfTone } from './DtmfTone.js';
import type { Digit, DtmfSource } from './PlaybackSettings.js';
import { AUDIO, END, EVENT, PASS, type EventFrame, type FrameKind, type PlaybackStream } from './PlaybackStream.js';

/**
 * Digits as rtpengine injects them, on a sample clock that starts with the first frame.
 * Each digit is due `durationMs` plus `pauseMs` after the one before.
 *
 * As RFC 4733 events (`events`): a digit starts with the first frame at or after its due
 * time; its frames report the time since that start, the current frame included. The first
 * frame at or after its due end is the end frame (the player sends it three times), one frame
 * longer than the last. Between digits the party's own audio goes on (PASS).
 *
 * As tones: the digit's two sines for exactly its duration, then silence for its pause, then
 * the next digit; the frame the last pause ends in is only partly the stream's (`filled`),
 * the rest is the party's audio again. Both sines at half scale, lowered by `volume` dB.
 */
export class DtmfStream implements PlaybackStream {
  /** Samples since the first frame. */
  private t = 0;
  private digit = 0;
  /** When the current event began (its frames' durations count from there), or -1 between events. */
  private eventStart = -1;
  private readonly digits: Digit[] = [];
  private readonly dueStart: number[] = [];
  private readonly dueEnd: number[] = [];
  /** Where the last digit's pause ends. */
  private end = 0;
  filled = 0;

  constructor(
    src: DtmfSource,
    private readonly rate: number,
    private readonly events: boolean,
  ) {
    this.queue(src.digits);
  }

  /** More digits, due after those queued (a `play DTMF` while these still play). */
  queue(digits: readonly Digit[]): void {
    for (const d of digits) {
      this.digits.push(d);
      this.dueStart.push(this.end);
      this.dueEnd.push(this.end + this.samples(d.durationMs));
      this.end += this.samples(d.durationMs) + this.samples(d.pauseMs);
    }
  }

  /** Played out: nothing more comes (a digit queued now would start a new stream). */
  get finished(): boolean {
    return this.events ? this.eventStart < 0 && this.digit >= this.digits.length : this.t >= this.end;
  }

  next(pcm: Int16Array, samples: number, ev: EventFrame): FrameKind {
    const kind = this.events ? this.event(samples, ev) : this.tone(pcm, samples);
    if (kind === PASS) pcm.fill(0, 0, samples);
    if (kind !== AUDIO) this.filled = samples;
    if (kind !== END) this.t += samples;
    return kind;
  }

  advance(ms: number): void {
    this.t += this.samples(ms);
    this.eventStart = -1;
    while (this.digit < this.dueEnd.length && this.dueEnd[this.digit]! <= this.t) this.digit++;
  }

  private samples(ms: number): number {
    return Math.floor((ms * this.rate) / 1000);
  }

  private event(samples: number, ev: EventFrame): FrameKind {
    const t = this.t;
    if (this.eventStart < 0) {
      if (this.digit >= this.dueStart.length) return END;
      if (t < this.dueStart[this.digit]!) return PASS;
      this.eventStart = t;
    }
    const d = this.digits[this.digit]!;
    ev.event = d.code;
    ev.volume = d.volume;
    ev.start = t === this.eventStart;
    ev.duration = t - this.eventStart + samples;
    ev.end = t >= this.dueEnd[this.digit]!;
    if (ev.end) {
      this.eventStart = -1;
      this.digit++;
    }
    return EVENT;
  }

  private tone(pcm: Int16Array, samples: number): FrameKind {
    if (this.t >= this.end) return END;
    let i = 0;
    while (i < samples) {
      const at = this.t + i;
      while (this.digit < this.dueStart.length - 1 && at >= this.dueStart[this.digit + 1]!) this.digit++;
      if (at >= this.end) break;
      const d = this.digits[this.digit]!;
      const toneEnd = this.dueEnd[this.digit]!;
      const pauseEnd = this.digit + 1 < this.dueStart.length ? this.dueStart[this.digit + 1]! : this.end;
      const stop = Math.min(samples, i + (at < toneEnd ? toneEnd : pauseEnd) - at);
      if (at < toneEnd) writeDtmfTone(pcm, i, stop, at - this.dueStart[this.digit]!, d.code, d.volume, this.rate);
      else pcm.fill(0, i, stop);
      i = stop;
    }
    this.filled = i;
    pcm.fill(0, i, samples);
    return AUDIO;
  }
}
