import { DtmfReceiver } from '../codecs/DtmfReceiver.js';
import { writeTelephoneEvent, type TelephoneEvent } from '../codecs/TelephoneEvent.js';
import { durationMs, type DtmfDigit } from '../DtmfReport.js';
import { Resampler } from './Resampler.js';

/** The detector's rate. */
const DSP_RATE = 8000;
/** Digit changes waiting for their frame. */
const QUEUE = 16;

/** What `frame` made of an output frame. */
export const AUDIO_FRAME = 0;
export const EVENT_START = 1;
export const EVENT_GOING = 2;
export const EVENT_END = 3;

/** The RFC 4733 code of a DTMF character (`0-9*#A-D`), or -1. */
function eventCode(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c === 0x2a) return 10;
  if (c === 0x23) return 11;
  if (c >= 0x41 && c <= 0x44) return c - 0x41 + 12;
  return -1;
}

/** RFC 4733 volume (-dBm0, 0-63) of a detector level in dBm0. */
function dspVolume(level: number): number {
  return level > 0 ? 0 : level >= -63 ? -level : 63;
}

/**
 * Digits heard in the audio of a converted stream whose sender has no telephone-event, sent on
 * as RFC 4733 events, as rtpengine does: the decoded audio runs through libspandsp's DTMF
 * receiver, each change of digit is placed at the sample it was reported at, and the output
 * frame at or after it carries the change. From there each frame is the event (its timestamp
 * the start's, its duration the time since, this frame included) until the frame at or after the
 * digit's end, which is the end (sent three times). Positions are output clock ticks since the
 * stream's first sample; nothing is allocated per packet.
 */
export class DetectedDtmf {
  private readonly receiver: DtmfReceiver;
  private readonly resampler: Resampler | null;
  private readonly dsp: Int16Array;
  /** Detector samples up to the last report. */
  private reportedAt = 0;
  private readonly qCode = new Int32Array(QUEUE);
  private readonly qLevel = new Int32Array(QUEUE);
  private readonly qAt = new Float64Array(QUEUE);
  private qHead = 0;
  private qLength = 0;
  /** The digit being sent (0: none), its level and where it started. */
  private code = 0;
  private level = 0;
  private start = 0;
  private readonly te: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 };
  /** The detector's current digit (0: none), its level and report position, for `heard`. */
  private heardCode = 0;
  private heardLevel = 0;
  private heardAt = 0;
  private readonly heardDigit: DtmfDigit = { event: 0, durationMs: 0, volume: 0 };
  /** Told each digit as it ends (DTMF reports), as rtpengine: the duration counted at the working rate, in the input's clock. */
  heard: ((digit: DtmfDigit) => void) | null = null;
  /** Where the event of the last frame started (output ticks since the first sample). */
  eventStart = 0;

  private constructor(
    receiver: DtmfReceiver,
    private readonly rate: number,
    maxInput: number,
    /** Output RTP clock ticks per detector sample, and the event format's ticks per output tick. */
    private readonly ticks: number,
    private readonly eventTicks: number,
    /** The input's RTP clock, which reported durations are counted in. */
    private readonly inputClock: number,
  ) {
    this.receiver = receiver;
    this.resampler = rate === DSP_RATE ? null : new Resampler(rate, DSP_RATE, maxInput);
    this.dsp = new Int16Array(this.resampler?.maxOutput(maxInput) ?? 0);
  }

  /** Detection for audio at `rate`, or null when the relay was built without libspandsp. */
  static create(rate: number, maxInput: number, outputClock: number, eventClock: number, inputClock: number): DetectedDtmf | null {
    const r = DtmfReceiver.create();
    return r ? new DetectedDtmf(r, rate, maxInput, outputClock / DSP_RATE, eventClock / outputClock, inputClock) : null;
  }

  /** Decoded samples, in order, before they are queued for encoding. */
  listen(pcm: Int16Array, n: number): void {
    let x = pcm;
    if (this.resampler !== null) {
      n = this.resampler.process(pcm, n, this.dsp);
      x = this.dsp;
    }
    const reports = this.receiver.feed(x, n);
    const r = this.receiver.reports;
    for (let i = 0; i < reports; i++) {
      this.reportedAt += r[i * 3 + 2]!;
      this.hear(r[i * 3]!, r[i * 3 + 1]!);
      if (this.qLength === QUEUE) continue;
      const at = (this.qHead + this.qLength++) % QUEUE;
      this.qCode[at] = r[i * 3]!;
      this.qLevel[at] = r[i * 3 + 1]!;
      this.qAt[at] = this.reportedAt * this.ticks;
    }
  }

  /** A change of digit: a digit that ends (and not one another digit follows) is told to `heard`. */
  private hear(code: number, level: number): void {
    const was = this.heardCode;
    const since = this.heardAt;
    const lvl = this.heardLevel;
    this.heardCode = code;
    this.heardLevel = level;
    this.heardAt = this.reportedAt;
    if (was === 0 || code !== 0 || this.heard === null) return;
    const event = eventCode(was);
    if (event < 0) return;
    const d = this.heardDigit;
    d.event = event;
    d.volume = dspVolume(lvl);
    d.durationMs = durationMs(Math.floor(((this.reportedAt - since) * this.rate) / DSP_RATE), this.inputClock);
    this.heard(d);
  }

  /**
   * The output frame at `pts` (ticks since the first sample), `frameTicks` long: AUDIO_FRAME, or
   * the event payload written to `out` (4 bytes) and whether it starts, goes on or ends the event.
   */
  frame(pts: number, frameTicks: number, out: Uint8Array): number {
    const before = this.code;
    while (this.qLength > 0 && this.qAt[this.qHead]! <= pts) {
      this.code = this.qCode[this.qHead]!;
      if (this.code !== 0) {
        this.level = this.qLevel[this.qHead]!;
        this.start = pts;
      }
      this.qHead = (this.qHead + 1) % QUEUE;
      this.qLength--;
    }
    if (this.code === 0 && before === 0) return AUDIO_FRAME;
    const ending = this.code === 0;
    const c = eventCode(ending ? before : this.code);
    if (c < 0) return AUDIO_FRAME;
    this.te.event = c;
    this.te.volume = dspVolume(this.level);
    this.te.end = ending;
    this.te.duration = Math.round((pts - this.start + frameTicks) * this.eventTicks);
    writeTelephoneEvent(out, 0, this.te);
    this.eventStart = this.start;
    return ending ? EVENT_END : before === 0 ? EVENT_START : EVENT_GOING;
  }

  close(): void {
    this.receiver.close();
  }
}
