import type { AudioEncoder } from '../codecs/AudioCodec.js';
import { writeTelephoneEvent, type TelephoneEvent } from '../codecs/TelephoneEvent.js';
import { rtpHeaderLength } from '../transforms/RtpHeader.js';
import { upmix } from './ChannelMix.js';
import { createEncoder, nativeRate } from './CodecCatalog.js';
import { DtmfStream } from './DtmfStream.js';
import { FileStream } from './FileStream.js';
import type { PlaybackSettings } from './PlaybackSettings.js';
import { AUDIO, END, EVENT, PASS, type EventFrame, type PlaybackStream } from './PlaybackStream.js';
import type { SentStream } from './SenderReport.js';
import { PACKETS_IN_FLIGHT, type PacketSink } from './Transcoder.js';

/** How long a player waits for the party's stream to take over its SSRC and numbering. */
const ANCHOR_FRAMES = 2;
/** Frames sent at once to catch up after the thread was busy (200 ms, what a jitter buffer absorbs); more are skipped. */
const MAX_CATCH_UP = 10;
const MAX_PAYLOAD = 1500;
/** The longest party packet a digit is spliced into, in ms. */
const MAX_PACKET_MS = 120;
/** RFC 4733 §2.5.1.4: an event's end goes out three times. */
const END_PACKETS = 3;
/** rtpengine's period of a player's sender reports: 5 s and up to 2 s more at random. */
const REPORT_MS = 5000;
const REPORT_SPREAD_MS = 2000;

/** Told when the player's stream is due a sender report (the player is its SentStream). */
export type ReportSink = (player: Player) => void;

/** The stream the player continues: its SSRC, and the numbers of the packet it replaced first. */
export interface Anchor {
  ssrc: number;
  seq: number;
  ts: number;
}

/**
 * A playback on its way to one party: a timer on the media thread makes a frame every ptime
 * (due times counted from the start, so the rate does not drift with the timer), encodes it
 * into the party's codec and sends it. It continues the party's current stream: the first
 * packet of that stream it replaces gives the SSRC, sequence number and timestamp, and the
 * player numbers on from there (marker bit on its first packet). A party that receives nothing
 * gets a stream of the player's own. Every buffer is made here, once.
 *
 * Digits into a stream that flows are spliced into it packet by packet instead, as rtpengine
 * injects them: each of the party's packets becomes the digit's frame for the same time (its
 * timestamp, its sequence number moved on by the extra end packets sent so far), or goes
 * through where the digits leave a gap; G.711 packets are cut at the sample the tones end.
 */
export class Player implements SentStream {
  private readonly stream: PlaybackStream;
  private readonly encoder: AudioEncoder | null;
  private readonly frame: number;
  private readonly frameTicks: number;
  private readonly pcm: Int16Array;
  private readonly stereo: Int16Array | null;
  private readonly ev: EventFrame = { event: 0, volume: 0, duration: 0, start: false, end: false };
  private readonly te: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 };
  private readonly ring: { buf: Buffer; payload: Buffer }[] = [];
  private slot = 0;
  private timer: NodeJS.Timeout | null = null;
  private due = 0;
  private waitUntil: number;
  /** Numbering chosen (continued, taken over, or its own): frames are going out. */
  anchored = false;
  /** Took over the party's stream (its SSRC), rather than a stream of its own. */
  continued = false;
  ssrc = 0;
  seq = 0;
  ts = 0;
  private eventTs = 0;
  private marker = true;
  /** The time the next frame's timestamp stands for (epoch ms). */
  private tsAt = 0;
  done = false;
  /** Driven by the party's packets (digits into a flowing stream), not by the timer. */
  spliced = false;
  /** Packets sent beyond those replaced (the repeated event ends): the party's numbering moves on by this. */
  private seqShift = 0;
  /** One byte per sample: the party's samples can fill a frame the digits end in. */
  private readonly g711: boolean;
  private readonly rate: number;
  /** The stream's counts for its sender reports (a continued playback's stream counts on). */
  sentPackets = 0;
  sentOctets = 0;
  lastTs = 0;
  /** When the next sender report is due (epoch ms; 0: after the first packet). */
  private reportDue = 0;

  constructor(
    public settings: PlaybackSettings,
    private readonly sink: PacketSink,
    private readonly onEnd: (p: Player) => void,
    /** The playback this one follows with nothing in between: its stream goes on. */
    previous: Player | null = null,
    now = Date.now(),
    /** Sender reports of a file's stream (digits go as rtpengine injects them: without). */
    private readonly report: ReportSink | null = null,
  ) {
    const s = settings;
    const rate = nativeRate(s.audio);
    this.encoder = createEncoder(s.audio, rate);
    this.frame = Math.round((rate * s.ptime) / 1000);
    this.frameTicks = Math.round((s.audio.clock * s.ptime) / 1000);
    this.rate = rate;
    this.g711 = (s.audio.encoding === 'PCMU' || s.audio.encoding === 'PCMA') && s.audio.clock === rate;
    this.pcm = new Int16Array(Math.max(this.frame, (rate * MAX_PACKET_MS) / 1000));
    this.stereo = this.encoder?.channels === 2 ? new Int16Array(this.frame * 2) : null;
    this.stream = s.source.kind === 'file' ? new FileStream(s.source, rate, this.frame) : new DtmfStream(s.source, rate, s.event !== null);
    for (let i = 0; i < PACKETS_IN_FLIGHT; i++) {
      const buf = Buffer.alloc(12 + MAX_PAYLOAD);
      this.ring.push({ buf, payload: buf.subarray(12) });
    }
    // Continued on another thread or relay: from where the playback stands now (digits follow the party's packets instead).
    const elapsed = Math.floor((now - s.startedAt) / s.ptime) * s.ptime;
    if (elapsed > 0 && s.source.kind === 'file') this.stream.advance(elapsed);
    this.waitUntil = now + ANCHOR_FRAMES * s.ptime;
    this.timer = setInterval(this.tick, Math.max(5, s.ptime >> 1));
    if (previous?.anchored) {
      this.ssrc = previous.ssrc;
      this.seq = previous.seq;
      this.ts = previous.timestampAt(now);
      this.continued = previous.continued;
      this.sentPackets = previous.sentPackets;
      this.sentOctets = previous.sentOctets;
      this.lastTs = previous.lastTs;
      this.reportDue = previous.reportDue;
      this.start(now);
    }
  }

  /**
   * A packet of the party's stream arrives while this plays: the first one anchors the player,
   * which sends its first frame in that packet's place. False: the packet goes on to the party
   * (renumbered in place), where spliced digits leave a gap or have just ended.
   */
  replaced(p: Uint8Array, length: number, now: number): boolean {
    if (this.done) return false;
    if (this.spliced) return this.splice(p, length);
    if (this.anchored) return true;
    this.ssrc = ((p[8]! << 24) | (p[9]! << 16) | (p[10]! << 8) | p[11]!) >>> 0;
    this.seq = (p[2]! << 8) | p[3]!;
    this.ts = ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0;
    this.continued = true;
    if (this.settings.source.kind === 'dtmf') {
      this.anchored = this.spliced = true;
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      return this.splice(p, length);
    }
    this.start(now);
    return true;
  }

  /** More digits for a digit playback still under way (false: it is not, or plays a file). */
  queue(settings: PlaybackSettings): boolean {
    const from = this.settings.source;
    const to = settings.source;
    if (this.done || !(this.stream instanceof DtmfStream) || this.stream.finished) return false;
    if (from.kind !== 'dtmf' || to.kind !== 'dtmf' || to.digits.length <= from.digits.length) return false;
    this.stream.queue(to.digits.slice(from.digits.length));
    this.settings = settings;
    return true;
  }

  /** Ends the playback now (`stop media`, a new playback, the leg closing). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.done) return;
    this.done = true;
    this.onEnd(this);
  }

  close(): void {
    this.stop();
    this.encoder?.close();
  }

  /** The timestamp the party's stream would carry at `now`, continuing the player's. */
  timestampAt(now: number): number {
    // Spliced: the party's own timestamps went on throughout.
    if (this.spliced) return this.ts;
    return (this.ts + Math.round(((now - this.tsAt) * this.settings.audio.clock) / 1000)) >>> 0;
  }

  private start(now: number): void {
    this.anchored = true;
    this.due = now;
    this.tsAt = now;
    this.tick();
  }

  private readonly tick = (): void => {
    if (this.done) return;
    const now = Date.now();
    if (!this.anchored) {
      if (now < this.waitUntil) return;
      // Nothing to continue: a stream of its own.
      this.ssrc = (Math.random() * 0x100000000) >>> 0;
      this.seq = (Math.random() * 0x10000) >>> 0;
      this.ts = (Math.random() * 0x100000000) >>> 0;
      this.start(now);
      return;
    }
    let sent = 0;
    while (this.due <= now && !this.done) {
      if (sent++ < MAX_CATCH_UP) this.emit();
      else this.skipFrame();
      this.due += this.settings.ptime;
    }
  };

  private skipFrame(): void {
    this.stream.advance(this.settings.ptime);
    this.advance();
  }

  private advance(): void {
    this.ts = (this.ts + this.frameTicks) >>> 0;
    this.tsAt += this.settings.ptime;
  }

  private emit(): void {
    const kind = this.stream.next(this.pcm, this.frame, this.ev);
    if (kind === END) return this.stop();
    if (kind === EVENT && this.ev.start) this.marker = true;
    this.send(kind, this.frame, null, 0);
    this.advance();
  }

  /** The party's packet `p` at the digits' turn: replaced by their frame (true), or left to go on. */
  private splice(p: Uint8Array, length: number): boolean {
    const seq = (p[2]! << 8) | p[3]!;
    this.ts = ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0;
    this.seq = (seq + this.seqShift) & 0xffff;
    const at = rtpHeaderLength(p, length);
    const n = this.g711 && (p[1]! & 0x7f) === this.settings.audio.pt && at > 0 && at < length ? Math.min(length - at, this.pcm.length) : this.frame;
    const kind = this.stream.next(this.pcm, n, this.ev);
    if (kind === END) {
      this.stop();
      return false;
    }
    if (kind === PASS) {
      p[2] = this.seq >> 8;
      p[3] = this.seq & 0xff;
      return false;
    }
    this.marker = kind === EVENT ? this.ev.start : (p[1]! & 0x80) !== 0;
    this.send(kind, n, p, at);
    this.seqShift = (this.seq - 1 - seq) & 0xffff;
    return true;
  }

  /**
   * Sends the frame the stream just made (`samples` long) as the next packet(s) at `this.ts`:
   * an event's end three times; tones that end within the frame followed by the rest of the
   * party's G.711 packet `party` (payload at `at`).
   */
  private send(kind: typeof AUDIO | typeof EVENT | typeof PASS, samples: number, party: Uint8Array | null, at: number): void {
    let copies = 1;
    let bytes = -1;
    let pt = this.settings.audio.pt;
    let ts = this.ts;
    const { buf, payload } = this.ring[this.slot]!;
    if (kind === EVENT) {
      const e = this.settings.event!;
      const ev = this.ev;
      if (ev.start) this.eventTs = this.ts;
      this.te.event = ev.event;
      this.te.volume = ev.volume;
      this.te.end = ev.end;
      this.te.duration = Math.min(0xffff, Math.round((ev.duration * e.clock) / this.rate));
      bytes = writeTelephoneEvent(payload, 0, this.te);
      pt = e.pt;
      ts = this.eventTs;
      if (ev.end) copies = END_PACKETS;
    } else if (this.encoder !== null) {
      let pcm = this.pcm;
      if (this.stereo !== null) {
        upmix(this.pcm, samples, this.stereo);
        pcm = this.stereo;
      }
      bytes = this.encoder.encode(pcm, samples, payload);
      const filled = kind === AUDIO ? this.stream.filled : samples;
      if (party !== null && this.g711 && filled < samples && bytes === samples) {
        for (let i = filled; i < samples; i++) payload[i] = party[at + i]!;
      }
    }
    if (bytes <= 0) return;
    for (let c = 0; c < copies; c++) {
      const slot = this.ring[this.slot]!;
      this.slot = (this.slot + 1) % PACKETS_IN_FLIGHT;
      const out = slot.buf;
      if (slot.buf !== buf) buf.copy(out, 12, 12, 12 + bytes);
      out[0] = 0x80;
      out[1] = (this.marker ? 0x80 : 0) | (pt & 0x7f);
      this.marker = false;
      out.writeUInt16BE(this.seq, 2);
      out.writeUInt32BE(ts >>> 0, 4);
      out.writeUInt32BE(this.ssrc >>> 0, 8);
      this.seq = (this.seq + 1) & 0xffff;
      this.sink(out, 12 + bytes);
      this.sentPackets = (this.sentPackets + 1) >>> 0;
      this.sentOctets = (this.sentOctets + 12 + bytes) >>> 0;
      this.lastTs = ts >>> 0;
    }
    if (this.report !== null && this.settings.source.kind === 'file') this.reportIfDue();
  }

  /** rtpengine's timing: right after the first packet, then every 5-7 s while packets go out. */
  private reportIfDue(): void {
    const now = Date.now();
    if (now < this.reportDue) return;
    this.reportDue = now + REPORT_MS + Math.floor(Math.random() * REPORT_SPREAD_MS);
    this.report!(this);
  }
}
