import { describe, expect, it } from 'vitest';
import { G722Decoder } from '../../src/media/codecs/G722.js';
import { OpusDecoder, OpusEncoder } from '../../src/media/codecs/Opus.js';
import { ULAW_DECODE, ULAW_ENCODE } from '../../src/media/codecs/Pcmu.js';
import { ALAW_DECODE as A_DECODE, ALAW_ENCODE as A_ENCODE } from '../../src/media/codecs/Pcma.js';
import { detectDtmf, dtmfFrequencies } from '../../src/media/engine/DtmfDetector.js';
import { MediaFilter } from '../../src/media/engine/MediaFilter.js';
import type { DtmfBlockMode, MediaControl } from '../../src/media/MediaControl.js';
import { dominantFrequency, powerAt, tone } from '../helpers/audio.js';

const FORMATS = [
  { pt: 0, encoding: 'PCMU', clock: 8000, channels: 1 },
  { pt: 8, encoding: 'PCMA', clock: 8000, channels: 1 },
  { pt: 9, encoding: 'G722', clock: 8000, channels: 1 },
  { pt: 111, encoding: 'opus', clock: 48000, channels: 2 },
  { pt: 101, encoding: 'telephone-event', clock: 8000, channels: 1 },
];

function filter(o: Partial<MediaControl>): MediaFilter {
  return new MediaFilter({ blockMedia: false, silence: false, dtmf: 'off', digit: 0, toneFrequency: 400, formats: FORMATS, ...o });
}

function rtp(pt: number, payload: Uint8Array, seq = 1): Buffer {
  const p = Buffer.alloc(12 + payload.length);
  p[0] = 0x80;
  p[1] = pt;
  p.writeUInt16BE(seq, 2);
  p.set(payload, 12);
  return p;
}

/** A DTMF digit's two tones at -10 dBm0 each, in G.711 µ-law, 20 ms. */
function dtmfUlaw(code: number, seed: number, samples = 160): Uint8Array {
  const [row, col] = dtmfFrequencies(code);
  const a = tone({ freq: row, rate: 8000, samples, amplitude: 5000, seed });
  const b = tone({ freq: col, rate: 8000, samples, amplitude: 5000, seed: seed + 1 });
  return Uint8Array.from(a, (x, i) => ULAW_ENCODE[(x + b[i]!) & 0xffff]!);
}

const ulawToPcm = (p: Uint8Array): Int16Array => Int16Array.from(p, (b) => ULAW_DECODE[b]!);

describe('DtmfDetector', () => {
  it('finds each of the 16 digits in 20 ms of G.711 and nothing in speech-like tones or silence', () => {
    for (let code = 0; code < 16; code++) expect(detectDtmf(ulawToPcm(dtmfUlaw(code, code)), 160)).toBe(code);
    const speechy = tone({ freq: 440, rate: 8000, samples: 160, amplitude: 8000, seed: 7 });
    expect(detectDtmf(speechy, 160)).toBe(-1);
    expect(detectDtmf(new Int16Array(160), 160)).toBe(-1);
  });
});

describe('MediaFilter', () => {
  it('silences PCMU, PCMA and G.722 payloads in place with the codecs\' silence, leaving header and length', () => {
    const f = filter({ silence: true });
    for (const [pt, byte] of [[0, 0xff], [8, 0xd5], [9, 0xfa]] as const) {
      const p = rtp(pt, new Uint8Array(160).fill(0x33), 77);
      const out = f.apply(p, 0)!;
      expect(out).toBe(p);
      expect(out.readUInt16BE(2)).toBe(77);
      expect(out.length).toBe(172);
      expect([...new Set(out.subarray(12))]).toEqual([byte]);
    }
    // G.722's pattern decodes to near silence (below -40 dBov).
    const d = new G722Decoder();
    const pcm = new Int16Array(320);
    let rms = 0;
    for (let i = 0; i < 5; i++) {
      const n = d.decode(new Uint8Array(160).fill(0xfa), 0, 160, pcm);
      rms = Math.sqrt(pcm.subarray(0, n).reduce((s, x) => s + x * x, 0) / n);
    }
    expect(20 * Math.log10(rms / 32768)).toBeLessThan(-40);
    // PCMA's silence byte is the smallest step.
    expect(Math.abs(A_DECODE[0xd5]!)).toBeLessThan(16);
    expect(A_ENCODE[0]).toBe(0xd5);
  });

  it('replaces an opus payload by silence of the same duration, the rest as RTP padding', () => {
    const enc = new OpusEncoder({ sampleRate: 48000, channels: 2, bitrate: 32_000 });
    const pcm = tone({ freq: 1000, rate: 48000, samples: 960, amplitude: 12000, seed: 3, channels: 2 });
    const frame = new Uint8Array(1500);
    const n = enc.encode(pcm, 960, frame);
    enc.close();
    const p = rtp(111, frame.subarray(0, n));
    const out = filter({ silence: true }).apply(p, 0)!;
    expect(out.length).toBe(p.length);
    expect(out[0]! & 0x20).toBe(0x20);
    const payload = out.subarray(12, out.length - out[out.length - 1]!);
    const dec = new OpusDecoder({ sampleRate: 48000, channels: 1 });
    const samples = new Int16Array(5760);
    expect(dec.decode(payload, 0, payload.length, samples)).toBe(960);
    const m = dec.decode(payload, 0, payload.length, samples);
    dec.close();
    expect(Math.max(...samples.subarray(0, m).map(Math.abs))).toBeLessThan(50);
  });

  it('drops, keeps or rewrites RFC 4733 events by DTMF-security mode; block media drops all', () => {
    const ev = (): Buffer => rtp(101, Uint8Array.from([5, 0x0a, 0x01, 0x40]));
    const mode = (dtmf: DtmfBlockMode, digit = 0): Buffer | null => filter({ dtmf, digit }).apply(ev(), 0);
    expect(mode('off')![12]).toBe(5);
    for (const m of ['drop', 'silence', 'tone', 'random'] as const) expect(mode(m)).toBeNull();
    expect(mode('zero')![12]).toBe(0);
    expect(mode('dtmf', 11)![12]).toBe(11);
    expect(filter({ blockMedia: true }).apply(rtp(0, new Uint8Array(160)), 0)).toBeNull();
    // Audio is untouched in drop mode, in-band DTMF included.
    const inband = rtp(0, dtmfUlaw(1, 9));
    expect(filter({ dtmf: 'drop' }).apply(Buffer.from(inband), 0)).toEqual(inband);
  });

  it('replaces in-band DTMF in G.711 by silence, by the tone, or by the digit of DTMF mode, and leaves other audio alone', () => {
    const voice = rtp(0, Uint8Array.from(tone({ freq: 300, rate: 8000, samples: 160, amplitude: 8000, seed: 5 }), (x) => ULAW_ENCODE[x & 0xffff]!));
    const silence = filter({ dtmf: 'silence' });
    expect(silence.apply(Buffer.from(voice), 0)).toEqual(voice);
    expect([...new Set(silence.apply(rtp(0, dtmfUlaw(7, 1)), 0)!.subarray(12))]).toEqual([0xff]);
    // 40 ms after the digit: still replaced (its tail); 200 ms after: audio again.
    expect([...new Set(silence.apply(Buffer.from(voice), 40)!.subarray(12))]).toEqual([0xff]);
    expect(silence.apply(Buffer.from(voice), 200)).toEqual(voice);

    const toned = filter({ dtmf: 'tone', toneFrequency: 600 }).apply(rtp(0, dtmfUlaw(3, 2)), 0)!;
    expect(dominantFrequency(ulawToPcm(toned.subarray(12)), 8000)).toBeCloseTo(600, -1);

    const noEvents = FORMATS.filter((f) => f.encoding !== 'telephone-event');
    const asNine = new MediaFilter({ blockMedia: false, silence: false, dtmf: 'dtmf', digit: 9, toneFrequency: 400, formats: noEvents }).apply(rtp(0, dtmfUlaw(2, 3)), 0)!;
    const pcm = ulawToPcm(asNine.subarray(12));
    expect(detectDtmf(pcm, 160)).toBe(9);
    expect(powerAt(pcm, 852, 8000)).toBeGreaterThan(10 * powerAt(pcm, 770, 8000));
  });
});
