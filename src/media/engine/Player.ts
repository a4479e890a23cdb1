import type { AudioEncoder } from '../codecs/AudioCodec.js';
import { writeTelephoneEvent, type TelephoneEvent } from '../codecs/TelephoneEvent.js';
import { upmix } from './ChannelMix.js';
import { createEncoder, nativeRate } from './CodecCatalog.js';
import { DtmfStream } from './DtmfStream.js';
import { FileStream } from './FileStream.js';
import type { PlaybackSettings } from './PlaybackSettings.js';
import { AUDIO, END, EVENT, type EventFrame, type PlaybackStream } from './PlaybackStream.js';
import { PACKETS_IN_FLIGHT, type PacketSink } from './Transcoder.js';

/** How long a player waits for the party's stream to take over its SSRC and numbering. */
const ANCHOR_FRAMES = 2;
/** Frames sent at once to catch up after the thread was busy (200 ms, what a jitter buffer absorbs); more are skipped. */
const MAX_CATCH_UP = 10;
const MAX_PAYLOAD = 1500;

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
 */
export class Player {
  private readonly stream: PlaybackStream;
  private readonly encoder: AudioEncoder | null;
  private readonly frame: number;
  private readonly frameTicks: number;
  private readonly pcm: Int16Array;
  private readonly stereo: Int16Array | null;
  private readonly ev: EventFrame = { event: 0, volume: 0, durationMs: 0, start: false, end: false };
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

  constructor(
    readonly settings: PlaybackSettings,
    private readonly sink: PacketSink,
    private readonly onEnd: (p: Player) => void,
    /** The playback this one follows with nothing in between: its stream goes on. */
    previous: Player | null = null,
    now = Date.now(),
  ) {
    const s = settings;
    const rate = nativeRate(s.audio);
    this.encoder = createEncoder(s.audio, rate);
    this.frame = Math.round((rate * s.ptime) / 1000);
    this.frameTicks = Math.round((s.audio.clock * s.ptime) / 1000);
    this.pcm = new Int16Array(this.frame);
    this.stereo = this.encoder?.channels === 2 ? new Int16Array(this.frame * 2) : null;
    this.stream = s.source.kind === 'file' ? new FileStream(s.source, rate, this.frame) : new DtmfStream(s.source, rate, s.ptime, s.event !== null);
    for (let i = 0; i < PACKETS_IN_FLIGHT; i++) {
      const buf = Buffer.alloc(12 + MAX_PAYLOAD);
      this.ring.push({ buf, payload: buf.subarray(12) });
    }
    // Continued on another thread or relay: from where the playback stands now.
    const elapsed = Math.floor((now - s.startedAt) / s.ptime) * s.ptime;
    if (elapsed > 0) this.stream.advance(elapsed);
    this.waitUntil = now + ANCHOR_FRAMES * s.ptime;
    this.timer = setInterval(this.tick, Math.max(5, s.ptime >> 1));
    if (previous?.anchored) {
      this.ssrc = previous.ssrc;
      this.seq = previous.seq;
      this.ts = previous.timestampAt(now);
      this.continued = previous.continued;
      this.start(now);
    }
  }

  /**
   * A packet of the party's stream arrives while this plays (it is dropped): the first one
   * anchors the player, which sends its first frame in that packet's place.
   */
  replaced(p: Uint8Array, now: number): void {
    if (this.anchored || this.done) return;
    this.ssrc = ((p[8]! << 24) | (p[9]! << 16) | (p[10]! << 8) | p[11]!) >>> 0;
    this.seq = (p[2]! << 8) | p[3]!;
    this.ts = ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0;
    this.continued = true;
    this.start(now);
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
    const { buf, payload } = this.ring[this.slot]!;
    this.slot = (this.slot + 1) % PACKETS_IN_FLIGHT;
    let bytes = -1;
    let pt = this.settings.audio.pt;
    let ts = this.ts;
    if (kind === EVENT) {
      const e = this.settings.event!;
      const ev = this.ev;
      if (ev.start) {
        this.eventTs = this.ts;
        this.marker = true;
      }
      this.te.event = ev.event;
      this.te.volume = ev.volume;
      this.te.end = ev.end;
      this.te.duration = Math.round((ev.durationMs * e.clock) / 1000);
      bytes = writeTelephoneEvent(payload, 0, this.te);
      pt = e.pt;
      ts = this.eventTs;
    } else if (kind === AUDIO && this.encoder !== null) {
      let pcm = this.pcm;
      if (this.stereo !== null) {
        upmix(this.pcm, this.frame, this.stereo);
        pcm = this.stereo;
      }
      bytes = this.encoder.encode(pcm, this.frame, payload);
    }
    if (bytes > 0) {
      buf[0] = 0x80;
      buf[1] = (this.marker ? 0x80 : 0) | (pt & 0x7f);
      this.marker = false;
      buf.writeUInt16BE(this.seq, 2);
      buf.writeUInt32BE(ts >>> 0, 4);
      buf.writeUInt32BE(this.ssrc >>> 0, 8);
      this.seq = (this.seq + 1) & 0xffff;
      this.sink(buf, 12 + bytes);
    }
    this.advance();
  }
}
