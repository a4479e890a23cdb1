import { describe, expect, it } from 'vitest';
import type { AudioDecoder, AudioEncoder } from '../../src/media/codecs/AudioCodec.js';
import { G722Decoder, G722Encoder } from '../../src/media/codecs/G722.js';
import { OpusDecoder, OpusEncoder } from '../../src/media/codecs/Opus.js';
import { PcmaDecoder } from '../../src/media/codecs/Pcma.js';
import { PcmuDecoder, PcmuEncoder } from '../../src/media/codecs/Pcmu.js';
import { Transcoder } from '../../src/media/engine/Transcoder.js';
import type { PayloadFormat, TranscodeSettings } from '../../src/media/engine/TranscodeSettings.js';
import { dominantFrequency, snr, tone } from '../helpers/audio.js';

const PCMU: PayloadFormat = { pt: 0, encoding: 'PCMU', clock: 8000, channels: 1 };
const PCMA: PayloadFormat = { pt: 8, encoding: 'PCMA', clock: 8000, channels: 1 };
const G722: PayloadFormat = { pt: 9, encoding: 'G722', clock: 8000, channels: 1 };
const OPUS: PayloadFormat = { pt: 111, encoding: 'opus', clock: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' };
const TE8: PayloadFormat = { pt: 101, encoding: 'telephone-event', clock: 8000, channels: 1 };
const TE48: PayloadFormat = { pt: 126, encoding: 'telephone-event', clock: 48000, channels: 1 };

interface Sent {
  pt: number;
  marker: boolean;
  seq: number;
  ts: number;
  ssrc: number;
  payload: Buffer;
}

function rtp(pt: number, seq: number, ts: number, payload: Uint8Array, marker = false, ssrc = 0x11223344): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b.set(payload, 12);
  return b;
}

function collect(settings: TranscodeSettings): { t: Transcoder; sent: Sent[] } {
  const sent: Sent[] = [];
  const t = new Transcoder(settings, (p, n) => {
    sent.push({ pt: p[1]! & 0x7f, marker: (p[1]! & 0x80) !== 0, seq: p.readUInt16BE(2), ts: p.readUInt32BE(4), ssrc: p.readUInt32BE(8), payload: Buffer.from(p.subarray(12, n)) });
  });
  return { t, sent };
}

/** Encodes a tone with `enc` in packets of `ptime` ms and pushes them through the transcoder. */
function feed(t: Transcoder, enc: AudioEncoder, pt: number, clock: number, ptime: number, freq: number, seconds: number): void {
  const frame = (enc.sampleRate * ptime) / 1000;
  const pcm = tone({ freq, rate: enc.sampleRate, samples: enc.sampleRate * seconds, seed: freq });
  const buf = new Uint8Array(1500);
  let ts = 1000;
  for (let o = 0, seq = 7; o + frame <= pcm.length; o += frame, seq++) {
    const n = enc.encode(pcm.subarray(o, o + frame), frame, buf);
    const p = rtp(pt, seq, ts, buf.subarray(0, n), seq === 7);
    t.push(p, p.length);
    ts += (clock * ptime) / 1000;
  }
}

function decodeAll(sent: Sent[], dec: AudioDecoder): Int16Array {
  const out = new Int16Array(dec.sampleRate * 10);
  let n = 0;
  for (const s of sent) n += dec.decode(s.payload, 0, s.payload.length, out.subarray(n));
  return out.subarray(0, n);
}

function expectContinuous(sent: Sent[], tsStep: number): void {
  for (let i = 1; i < sent.length; i++) {
    expect(sent[i]!.seq).toBe((sent[i - 1]!.seq + 1) & 0xffff);
    expect((sent[i]!.ts - sent[i - 1]!.ts) >>> 0).toBe(tsStep);
    expect(sent[i]!.ssrc).toBe(sent[0]!.ssrc);
  }
}

const settings = (input: PayloadFormat[], output: PayloadFormat, ptime = 20, outputExtras: PayloadFormat[] = []): TranscodeSettings => ({
  input,
  output,
  outputExtras,
  ptime,
  ssrc: 0xabcdef01,
});

describe('Transcoder', () => {
  const cases = [
    ['PCMU → PCMA', PCMU, new PcmuEncoder(), PCMA, new PcmaDecoder(), 160, 30],
    ['PCMU → G.722', PCMU, new PcmuEncoder(), G722, new G722Decoder(), 160, 25],
    ['G.722 → PCMU', G722, new G722Encoder(), PCMU, new PcmuDecoder(), 160, 25],
    ['opus → PCMU', OPUS, new OpusEncoder(), PCMU, new PcmuDecoder(), 160, 15],
    ['PCMU → opus', PCMU, new PcmuEncoder(), OPUS, new OpusDecoder({ sampleRate: 8000 }), 960, 15],
  ] as const;
  for (const [name, inF, enc, outF, dec, step, minSnr] of cases) {
    it(`${name}: 1 kHz arrives at 1 kHz, SNR > ${minSnr} dB, one SSRC, continuous sequence and timestamps`, () => {
      const { t, sent } = collect(settings([inF, TE8], outF));
      feed(t, enc, inF.pt, inF.clock, 20, 1000, 2);
      expect(sent.length).toBeGreaterThanOrEqual(99);
      expect(sent.every((s) => s.pt === outF.pt && s.ssrc === 0xabcdef01)).toBe(true);
      expect(sent[0]!.marker).toBe(true);
      expect(sent.slice(1).some((s) => s.marker)).toBe(false);
      expectContinuous(sent, step);
      const back = decodeAll(sent, dec).subarray(dec.sampleRate / 5);
      expect(dominantFrequency(back, dec.sampleRate, 200, 3800)).toBe(1000);
      expect(snr(back, 1000, dec.sampleRate)).toBeGreaterThan(minSnr);
      t.close();
    });
  }

  for (const [inMs, outMs] of [[20, 30], [30, 20], [20, 10], [10, 30]] as const) {
    it(`repacketises ${inMs} ms into ${outMs} ms without losing or repeating a sample`, () => {
      const { t, sent } = collect(settings([PCMU], PCMA, outMs));
      feed(t, new PcmuEncoder(), 0, 8000, inMs, 440, 3);
      expect(sent.every((s) => s.payload.length === outMs * 8)).toBe(true);
      expect(sent.length).toBe(Math.floor(24000 / (outMs * 8)));
      expectContinuous(sent, outMs * 8);
      const back = decodeAll(sent, new PcmaDecoder());
      expect(snr(back, 440, 8000)).toBeGreaterThan(30);
    });
  }

  it('keeps the sender\'s sequence numbers across a gap (loss), and numbers timestamps by the samples sent, as rtpengine does', () => {
    const { t, sent } = collect(settings([PCMU], PCMA));
    const payload = new Uint8Array(160).fill(0xff);
    for (let i = 0; i < 5; i++) t.push(rtp(0, i, i * 160, payload), 172);
    for (let i = 10; i < 12; i++) t.push(rtp(0, i, i * 160, payload), 172);
    expect(sent.length).toBe(7);
    expect(sent.map((x) => x.ts)).toEqual([0, 160, 320, 480, 640, 800, 960]);
    expect(sent.map((x) => x.seq)).toEqual([0, 1, 2, 3, 4, 10, 11]);
    // A repeated packet is sent again with the same number; a jump of thousands continues by one.
    t.push(rtp(0, 11, 11 * 160, payload), 172);
    t.push(rtp(0, 30000, 12 * 160, payload), 172);
    expect(sent.slice(7).map((x) => x.seq)).toEqual([11, 12]);
  });

  it('carries on as if nothing happened across a timestamp reset: a jump over 5 s ahead, or back while the numbering goes on', () => {
    const { t, sent } = collect(settings([PCMU], PCMA, 30));
    const packet = (n: number): Uint8Array => new Uint8Array(n).fill(0xff);
    // Five 20 ms packets: three 30 ms frames out, 80 samples left over.
    for (let i = 0; i < 5; i++) t.push(rtp(0, 1000 + i, 3000 + i * 160, packet(160)), 172);
    // 60 ms from a new numbering 60 s on: the queue goes on, so two more frames right after.
    t.push(rtp(0, 8000, 500000, packet(480)), 492);
    expect(sent.map((x) => x.ts - 3000)).toEqual([0, 240, 480, 720, 960]);
    // Timestamps back to the start while the sequence goes on: the same.
    t.push(rtp(0, 8001, 2000, packet(160)), 172);
    expect(sent.map((x) => x.ts - 3000)).toEqual([0, 240, 480, 720, 960, 1200]);
    expect(sent.map((x) => x.seq)).toEqual([1000, 1001, 1002, 1003, 1004, 1005]);
  });

  it('translates telephone-event between payload types and clocks (48 kHz → 8 kHz durations ÷ 6)', () => {
    const { t, sent } = collect(settings([OPUS, TE48], PCMU, 20, [TE8]));
    // Digit 5, 1920 ticks at 48 kHz (40 ms), then its end, three times.
    t.push(rtp(126, 1, 48000, Uint8Array.of(5, 10, 0x07, 0x80), true), 16);
    t.push(rtp(126, 2, 48000, Uint8Array.of(5, 0x8a, 0x0f, 0x00)), 16);
    t.push(rtp(126, 3, 48000, Uint8Array.of(5, 0x8a, 0x0f, 0x00)), 16);
    expect(sent.map((s) => [s.pt, s.marker, Array.from(s.payload)])).toEqual([
      [101, true, [5, 10, 0x01, 0x40]],
      [101, false, [5, 0x8a, 0x02, 0x80]],
      [101, false, [5, 0x8a, 0x02, 0x80]],
    ]);
    expect(sent[1]!.ts).toBe(sent[0]!.ts);
    expect(sent[1]!.seq).toBe((sent[0]!.seq + 1) & 0xffff);
  });

  it('plays events as the digit\'s tone to a receiver without telephone-event, as rtpengine does; drops what it cannot read', () => {
    const { t, sent } = collect(settings([PCMU, TE8], PCMA));
    t.push(rtp(0, 1, 0, new Uint8Array(160).fill(0xff)), 172);
    // Digit 1 at -10 dBm0: 20 ms, then 40 ms, then the end three times (nothing new), each packet in its turn.
    t.push(rtp(101, 2, 160, Uint8Array.of(1, 10, 0, 160), true), 16);
    t.push(rtp(101, 3, 160, Uint8Array.of(1, 10, 0x01, 0x40)), 16);
    for (let i = 4; i < 7; i++) t.push(rtp(101, i, 160, Uint8Array.of(1, 0x80 | 10, 0x01, 0x40)), 16);
    expect(sent.map((x) => [x.pt, x.seq, x.ts, x.marker])).toEqual([[8, 1, 0, false], [8, 2, 160, false], [8, 3, 320, false]]);
    const pcm = decodeAll(sent.slice(1), new PcmaDecoder());
    // 40 ms of tone: the two frequencies to within the resolution that gives.
    expect(Math.abs(dominantFrequency(pcm, 8000, 600, 1000) - 697)).toBeLessThanOrEqual(10);
    expect(Math.abs(dominantFrequency(pcm, 8000, 1100, 1500) - 1209)).toBeLessThanOrEqual(10);
    t.push(rtp(96, 7, 0, new Uint8Array(10)), 22);
    t.push(Buffer.from([0x80, 0]), 2);
    // Extension header longer than the packet.
    const bad = rtp(0, 8, 0, new Uint8Array(8));
    bad[0] = 0x90;
    bad.writeUInt16BE(200, 14);
    t.push(bad, bad.length);
    expect(sent.length).toBe(3);
    expect(t.dropped).toBe(3);
  });

  it('sends stereo opus when the receiver asked for stereo=1 (both channels carry the signal)', () => {
    const stereoOpus = { ...OPUS, fmtp: 'stereo=1' };
    const { t, sent } = collect(settings([PCMU], stereoOpus));
    feed(t, new PcmuEncoder(), 0, 8000, 20, 1000, 1);
    const dec = new OpusDecoder({ sampleRate: 48000, channels: 2 });
    const out = new Int16Array(48000 * 2);
    let n = 0;
    for (const s of sent) n += dec.decode(s.payload, 0, s.payload.length, out.subarray(n * 2));
    const left = Float64Array.from({ length: n - 9600 }, (_, i) => out[(i + 9600) * 2]!);
    const right = Float64Array.from({ length: n - 9600 }, (_, i) => out[(i + 9600) * 2 + 1]!);
    expect(dominantFrequency(left, 48000, 200, 3800)).toBe(1000);
    expect(dominantFrequency(right, 48000, 200, 3800)).toBe(1000);
  });
});
