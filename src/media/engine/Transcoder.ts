import type { AudioDecoder, AudioEncoder } from '../codecs/AudioCodec.js';
import { CN_RATE } from '../codecs/ComfortNoiseDecoder.js';
import { upmix } from './ChannelMix.js';
import { canTranscode, createDecoder, createEncoder, createNoiseDecoder, isComfortNoise, isTelephoneEvent, nativeRate, workingRate } from './CodecCatalog.js';
import { AUDIO_FRAME, DetectedDtmf, EVENT_END, EVENT_START } from './DetectedDtmf.js';
import { writeDtmfTone } from './DtmfTone.js';
import { translateEvents } from './DtmfTranslator.js';
import type { DtmfDigit } from '../DtmfReport.js';
import { Resampler } from './Resampler.js';
import { MAX_INPUT_FORMATS, type PayloadFormat, type TranscodeSettings } from './TranscodeSettings.js';

/** Receives each packet made; the buffer is reused after `PACKETS_IN_FLIGHT` later packets. */
export type PacketSink = (packet: Buffer, length: number) => void;

/** Output packets in flight: a sink must not hold more sends than this pending. */
export const PACKETS_IN_FLIGHT = 16;

interface AudioInput {
  kind: 'audio';
  format: PayloadFormat;
  decoder: AudioDecoder;
  resampler: Resampler | null;
}
interface PassInput {
  kind: 'event' | 'cn';
  format: PayloadFormat;
  /** The receiver's format for it; null drops such packets. */
  out: PayloadFormat | null;
}
type Input = AudioInput | PassInput;

/** Longest frame a decoder may return: 120 ms at 48 kHz. */
const MAX_DECODED = 5760;
const RING = PACKETS_IN_FLIGHT;
const MAX_PAYLOAD = 1500;
/** The CN payload silence is sent as: level 32 (-32 dBov), no spectral coefficients (rtpengine's default). */
const SILENCE_LEVEL = 0x20;

/** The ptime to packetise at: what opus can frame (10, 20, 40, 60 ms), else 10-120 ms in steps of 10. */
function packetTime(s: TranscodeSettings): number {
  const want = Math.min(120, Math.max(10, Math.round(s.ptime / 10) * 10 || 20));
  if (s.output.encoding.toLowerCase() !== 'opus') return want;
  return [10, 20, 40, 60].reduce((best, p) => (Math.abs(p - want) < Math.abs(best - want) ? p : best), 20);
}

/**
 * One direction of a transcoded stream: RTP in, RTP out. Audio is decoded, resampled to the
 * encoder's rate, queued, and encoded in frames of the receiver's ptime (repacketising 10, 20,
 * 30 ms as needed). Sequence numbers, timestamps and the SSRC are the pipeline's own and stay
 * continuous whatever the sender does; a marker bit marks the next packet sent. telephone-event
 * and CN go on in the receiver's payload type and clock. Every buffer is made here, once.
 */
/** A sequence number jump larger than this is a new source, not a gap. */
const SEQ_JUMP = 1000;
/** A timestamp jump forward larger than this (seconds) is a reset, as rtpengine's decoder takes it. */
const TS_RESET_S = 5;

function sameFormat(a: PayloadFormat, b: PayloadFormat): boolean {
  return a.encoding.toLowerCase() === b.encoding.toLowerCase() && a.clock === b.clock && (a.channels ?? 1) === (b.channels ?? 1);
}

export class Transcoder {
  readonly settings: TranscodeSettings;
  private readonly byPt: (Input | undefined)[] = new Array<Input | undefined>(128);
  private readonly encoder: AudioEncoder;
  private readonly output: PayloadFormat;
  /** Samples per channel per packet sent. */
  private readonly frame: number;
  /** Output RTP clock ticks per sample. */
  private readonly ticks: number;
  private readonly decoded = new Int16Array(MAX_DECODED);
  private readonly resampled = new Int16Array(MAX_DECODED + 64);
  private readonly fifo: Int16Array;
  private fifoLength = 0;
  /** Output timestamp of fifo[0]. */
  private fifoTs = 0;
  private readonly stereo: Int16Array | null;
  private readonly ring: { buf: Buffer; payload: Buffer }[] = [];
  private slot = 0;
  private seq: number;
  private lastInTs = 0;
  private lastInSeq = 0;
  /** How far the sender's sequence number moved with the packet being converted. */
  private seqStep = 1;
  private lastOutTs: number;
  /** Output timestamp right after the last audio packet's samples. */
  private nextOutTs = 0;
  private started = false;
  private marker = false;
  /** Packets that could not be decoded or had no path (the relay counts them as errors). */
  dropped = 0;
  /** In-band digits sent on as events (a sender without telephone-event, a receiver with it), and on which format. */
  private readonly dtmf: DetectedDtmf | null = null;
  private readonly dtmfOut: PayloadFormat | null = null;
  /** Output timestamp of the first audio sample: where detected digits count from. */
  private firstTs = -1;
  /** The working rate (samples per second of the queue). */
  private readonly rate: number;
  /** The event being played as a tone (towards a receiver without telephone-event): its timestamp, code, samples made. */
  private toneTs = -1;
  private toneCode = -1;
  private toneDone = 0;
  /** The event passed on (telephone-event to telephone-event): its input timestamp, the duration sent so far. */
  private eventInTs = -1;
  private eventDone = 0;
  /** Digits are detected in the audio or played into it: every packet is converted. */
  private readonly digits: boolean;
  /** Silence sent as CN: the receiver's CN format, the threshold, and which queued samples are silent. */
  private readonly cnOut: PayloadFormat | null = null;
  private readonly silence: number;
  private readonly quiet: Uint8Array | null = null;

  /** `previous`: the pipeline this one replaces (a re-negotiation); its comfort-noise decoders go on here. */
  constructor(settings: TranscodeSettings, private readonly sink: PacketSink, previous: Transcoder | null = null) {
    this.settings = settings;
    this.output = settings.output;
    const audioIn = settings.input.filter((f) => !isTelephoneEvent(f) && !isComfortNoise(f) && canTranscode(f)).slice(0, MAX_INPUT_FORMATS);
    const rate = workingRate(audioIn[0] ?? settings.output, settings.output);
    const enc = createEncoder(settings.output, rate);
    if (!enc) throw new Error(`cannot encode ${settings.output.encoding}/${settings.output.clock} at ${rate} Hz`);
    this.encoder = enc;
    this.frame = Math.round((rate * packetTime(settings)) / 1000);
    this.ticks = settings.output.clock / rate;
    this.rate = rate;
    this.fifo = new Int16Array(MAX_DECODED * 2 + this.frame);
    this.stereo = enc.channels === 2 ? new Int16Array(this.frame * 2) : null;
    for (const f of audioIn) {
      const own = nativeRate(f);
      const decodeAt = f.encoding.toLowerCase() === 'opus' ? rate : own;
      const decoder = createDecoder(f, decodeAt);
      if (!decoder) continue;
      this.byPt[f.pt & 0x7f] = { kind: 'audio', format: f, decoder, resampler: decodeAt === rate ? null : new Resampler(decodeAt, rate, MAX_DECODED) };
    }
    for (const f of settings.input) {
      const kind = isTelephoneEvent(f) ? 'event' : isComfortNoise(f) ? 'cn' : null;
      if (!kind) continue;
      const same = settings.outputExtras.filter((o) => (kind === 'event' ? isTelephoneEvent(o) : isComfortNoise(o)));
      const out = same.find((o) => o.clock === f.clock) ?? same[0] ?? null;
      // CN towards a receiver without CN becomes noise in its codec, a packet's worth per payload.
      // rtpengine keeps the decoder over a re-negotiation: the noise goes on where it was.
      const noise = kind === 'cn' && out === null ? (previous?.takeNoise(f, this.frame, rate) ?? createNoiseDecoder(this.frame, rate)) : null;
      this.byPt[f.pt & 0x7f] = noise ? { kind: 'audio', format: f, decoder: noise, resampler: CN_RATE === rate ? null : new Resampler(CN_RATE, rate, MAX_DECODED) } : { kind, format: f, out };
    }
    const te = settings.outputExtras.find(isTelephoneEvent);
    if (te && !settings.input.some(isTelephoneEvent)) {
      this.dtmf = DetectedDtmf.create(rate, MAX_DECODED, settings.output.clock, te.clock, audioIn[0]?.clock ?? settings.output.clock);
      this.dtmfOut = te;
    }
    this.silence = settings.silence ?? 0;
    const cn = settings.outputExtras.find(isComfortNoise);
    if (this.silence > 0 && cn) {
      this.cnOut = cn;
      this.quiet = new Uint8Array(this.fifo.length);
    }
    this.digits = this.dtmf !== null || this.byPt.some((i) => i?.kind === 'event' && i.out === null);
    for (let i = 0; i < RING; i++) {
      const buf = Buffer.alloc(12 + MAX_PAYLOAD);
      this.ring.push({ buf, payload: buf.subarray(12) });
    }
    // Set from the first packet: rtpengine's transcoded streams carry on the sender's sequence
    // numbers and timestamps (in the output's clock), under the pipeline's own SSRC.
    this.seq = 0;
    this.lastOutTs = 0;
  }

  /** Takes one RTP packet (already decrypted) of `length` bytes. */
  push(p: Uint8Array, length: number): void {
    if (length < 12 || p[0]! >> 6 !== 2) return this.drop();
    let header = 12 + 4 * (p[0]! & 0x0f);
    if ((p[0]! & 0x10) !== 0) {
      if (header + 4 > length) return this.drop();
      header += 4 + 4 * ((p[header + 2]! << 8) | p[header + 3]!);
    }
    let payload = length - header;
    if ((p[0]! & 0x20) !== 0 && payload > 0) payload -= p[length - 1]!;
    if (payload <= 0) return this.drop();
    const input = this.byPt[p[1]! & 0x7f];
    if (input === undefined) return this.drop();
    // A digit played as a tone goes on in the audio unmarked.
    if ((p[1]! & 0x80) !== 0 && (input.kind !== 'event' || input.out !== null)) this.marker = true;
    const inTs = ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0;
    let outTs = this.mapTimestamp(inTs, input.format.clock, (p[2]! << 8) | p[3]!);
    // Events towards a receiver without telephone-event become the digit's tone in the audio.
    if (input.kind !== 'audio' && (input.kind !== 'event' || input.out !== null)) return this.pass(input, p, header, payload, inTs, outTs);
    if (input.kind === 'audio') this.audio(input, p, header, payload, outTs);
    else this.tone(input, p, header, payload, inTs, this.continued(outTs));
  }

  /** Hands this pipeline's CN decoder for `f` over to a successor with the same packet size and rate (null: none). */
  private takeNoise(f: PayloadFormat, frame: number, rate: number): AudioDecoder | null {
    const i = this.byPt[f.pt & 0x7f];
    if (i?.kind !== 'audio' || !isComfortNoise(i.format) || frame !== this.frame || rate !== this.rate) return null;
    this.byPt[f.pt & 0x7f] = undefined;
    return i.decoder;
  }

  /** Told each digit heard in the audio as it ends (DTMF reports); called rarely, never per packet. */
  onDigit(listener: ((digit: DtmfDigit) => void) | null): void {
    if (this.dtmf !== null) this.dtmf.heard = listener;
  }

  /** Frees the codecs. */
  close(): void {
    this.encoder.close();
    this.dtmf?.close();
    for (const i of this.byPt) if (i?.kind === 'audio') i.decoder.close();
  }

  private drop(): void {
    this.dropped++;
  }

  /** The output timestamp for an input one: the same distance from the last packet, in the output's clock. */
  private mapTimestamp(inTs: number, inClock: number, inSeq: number): number {
    if (this.started) {
      // Packet for packet, a gap, a repeat or a reordering in the sender's numbers shows in ours
      // (a jump of more than SEQ_JUMP is a new source and continues by one).
      const d = ((inSeq - this.lastInSeq + 0x8000) & 0xffff) - 0x8000;
      this.seqStep = d >= -SEQ_JUMP && d <= SEQ_JUMP ? d : 1;
    }
    // A late packet does not move the numbering back (rtpengine's sequencer takes it as old).
    if (!this.started || this.seqStep >= 0) this.lastInSeq = inSeq;
    if (!this.started) {
      this.started = true;
      this.seq = inSeq;
      this.lastInTs = inTs;
      // The sender's first timestamp as it is, whatever the clocks (rtpengine counts on from it).
      this.lastOutTs = inTs;
      return this.lastOutTs;
    }
    const delta = (inTs - this.lastInTs) | 0;
    // A reset (backwards while the numbering goes on, or over 5 s ahead): carry on as if the packet followed directly.
    if ((delta < 0 && this.seqStep > 0) || delta > inClock * TS_RESET_S) {
      this.lastInTs = inTs;
      this.lastOutTs = this.nextOutTs;
      return this.nextOutTs;
    }
    const out = (this.lastOutTs + Math.round((delta * this.output.clock) / inClock)) >>> 0;
    this.lastInTs = inTs;
    this.lastOutTs = out;
    return out;
  }

  private audio(input: AudioInput, p: Uint8Array, offset: number, length: number, outTs: number): void {
    let n = input.decoder.decode(p, offset, length, this.decoded);
    if (n <= 0) return this.drop();
    let samples = this.decoded;
    if (input.resampler !== null) {
      n = input.resampler.process(this.decoded, n, this.resampled);
      samples = this.resampled;
    }
    // A packet already in the receiver's codec and size keeps its own timestamp (rtpengine passes it through).
    const through = !this.digits && n === this.frame && sameFormat(input.format, this.output);
    this.queue(samples, n, through ? outTs : this.continued(outTs));
  }

  /**
   * The timestamp of converted audio, as rtpengine numbers it: by the samples sent, so a gap, a
   * jump or a reset in the sender's timestamps does not show (`outTs` for the first packet).
   */
  private continued(outTs: number): number {
    if (this.firstTs < 0) return outTs;
    return (this.lastOutTs = this.nextOutTs);
  }

  /**
   * An event towards a receiver without telephone-event, as rtpengine's DTMF decoder plays it:
   * each packet adds the digit's tone from the duration the last one reached to its own (a new
   * timestamp or digit starts a new tone); repeated ends add nothing.
   */
  private tone(input: PassInput, p: Uint8Array, offset: number, length: number, inTs: number, outTs: number): void {
    if (length < 4) return this.drop();
    const code = p[offset]!;
    if (inTs !== this.toneTs || code !== this.toneCode) {
      this.toneTs = inTs;
      this.toneCode = code;
      this.toneDone = 0;
    }
    const duration = Math.round((((p[offset + 2]! << 8) | p[offset + 3]!) * this.rate) / input.format.clock);
    const n = Math.min(duration - this.toneDone, this.decoded.length);
    if (n <= 0) return;
    if (code < 16) writeDtmfTone(this.decoded, 0, n, this.toneDone, code, p[offset + 1]! & 0x3f, this.rate);
    else this.decoded.fill(0, 0, n);
    this.toneDone += n;
    this.queue(this.decoded, n, outTs);
  }

  /** Samples at the working rate that start at output timestamp `outTs`: queued, then encoded frame by frame. */
  private queue(samples: Int16Array, n: number, outTs: number): void {
    const frameTicks = this.frame * this.ticks;
    if (this.fifoLength === 0) {
      this.fifoTs = outTs;
    } else {
      // A jump (loss, silence suppression, a new source) starts the queue afresh.
      const drift = (outTs - ((this.fifoTs + this.fifoLength * this.ticks) >>> 0)) | 0;
      if (drift > frameTicks || drift < -frameTicks) {
        this.fifoLength = 0;
        this.fifoTs = outTs;
      }
    }
    if (this.fifoLength + n > this.fifo.length) this.fifoLength = 0;
    if (this.fifoLength === 0 && n === this.frame) this.seq = (this.seq + this.seqStep - 1) & 0xffff;
    this.seqStep = 1;
    this.nextOutTs = (outTs + n * this.ticks) >>> 0;
    if (this.firstTs < 0) this.firstTs = this.fifoTs;
    this.dtmf?.listen(samples, n);
    const fifo = this.fifo;
    const at = this.fifoLength;
    for (let i = 0; i < n; i++) fifo[at + i] = samples[i]!;
    if (this.quiet !== null) {
      // rtpengine's test: each sample at or under the threshold, the packet's second sample at or over its negative.
      const t = this.silence;
      const low = n > 1 && samples[1]! >= -t;
      for (let i = 0; i < n; i++) this.quiet[at + i] = low && samples[i]! <= t ? 1 : 0;
    }
    this.fifoLength += n;
    while (this.fifoLength >= this.frame) this.encodeFrame(frameTicks);
  }

  private encodeFrame(frameTicks: number): void {
    const { buf, payload } = this.ring[this.slot]!;
    this.slot = (this.slot + 1) % RING;
    let pcm = this.fifo;
    if (this.stereo !== null) {
      upmix(this.fifo, this.frame, this.stereo);
      pcm = this.stereo;
    }
    const ts = this.fifoTs;
    const event = this.dtmf === null ? AUDIO_FRAME : this.dtmf.frame((ts - this.firstTs) >>> 0, frameTicks, payload);
    let bytes = event === AUDIO_FRAME ? this.encoder.encode(pcm, this.frame, payload) : 0;
    let pt = this.output.pt;
    if (bytes > 0 && this.quiet !== null && this.silent()) {
      payload[0] = SILENCE_LEVEL;
      bytes = 1;
      pt = this.cnOut!.pt;
    }
    this.fifo.copyWithin(0, this.frame, this.fifoLength);
    this.quiet?.copyWithin(0, this.frame, this.fifoLength);
    this.fifoLength -= this.frame;
    this.fifoTs = (this.fifoTs + frameTicks) >>> 0;
    if (event !== AUDIO_FRAME) return this.sendEvent(buf, payload, event);
    if (bytes <= 0) return this.drop();
    this.header(buf, pt, ts);
    this.sink(buf, 12 + bytes);
  }

  /** Whether every sample of the frame about to be sent is silent. */
  private silent(): boolean {
    for (let i = 0; i < this.frame; i++) if (this.quiet![i] === 0) return false;
    return true;
  }

  /** A detected digit's event in place of an audio frame (payload written): its end three times. */
  private sendEvent(buf: Buffer, payload: Buffer, event: number): void {
    const ts = (this.firstTs + this.dtmf!.eventStart) >>> 0;
    if (event === EVENT_START) this.marker = true;
    this.header(buf, this.dtmfOut!.pt, ts);
    this.sink(buf, 16);
    if (event !== EVENT_END) return;
    for (let i = 1; i < 3; i++) {
      const next = this.ring[this.slot]!;
      this.slot = (this.slot + 1) % RING;
      next.payload.set(payload.subarray(0, 4));
      this.header(next.buf, this.dtmfOut!.pt, ts);
      this.sink(next.buf, 16);
    }
  }

  private pass(input: PassInput, p: Uint8Array, offset: number, length: number, inTs: number, outTs: number): void {
    if (input.out === null || length > MAX_PAYLOAD) return this.drop();
    const { buf, payload } = this.ring[this.slot]!;
    this.slot = (this.slot + 1) % RING;
    let bytes: number;
    if (input.kind === 'event') {
      bytes = translateEvents(p, offset, length, input.format.clock, payload, 0, input.out.clock);
      if (bytes === 0) return this.drop();
      if (this.firstTs >= 0) outTs = this.eventTs(inTs, (payload[2]! << 8) | payload[3]!);
    } else {
      for (let i = 0; i < length; i++) payload[i] = p[offset + i]!;
      bytes = length;
    }
    this.header(buf, input.out.pt, outTs);
    this.sink(buf, 12 + bytes);
  }

  /**
   * An event passed on amid converted audio, timed as rtpengine times it: at the next audio
   * packet's timestamp when the event starts, and the audio after it moves on by the event's
   * duration (the event stands in for that audio).
   */
  private eventTs(inTs: number, duration: number): number {
    if (inTs !== this.eventInTs) {
      this.eventInTs = inTs;
      this.eventDone = 0;
    }
    const next = this.fifoLength > 0 ? this.fifoTs : this.nextOutTs;
    const start = (next - this.eventDone) >>> 0;
    this.fifoTs = (start + duration) >>> 0;
    this.nextOutTs = (this.fifoTs + this.fifoLength * this.ticks) >>> 0;
    this.eventDone = duration;
    return start;
  }

  private header(buf: Buffer, pt: number, ts: number): void {
    buf[0] = 0x80;
    buf[1] = (this.marker ? 0x80 : 0) | (pt & 0x7f);
    this.marker = false;
    buf.writeUInt16BE(this.seq, 2);
    this.seq = (this.seq + 1) & 0xffff;
    buf.writeUInt32BE(ts >>> 0, 4);
    buf.writeUInt32BE(this.settings.ssrc >>> 0, 8);
  }
}
