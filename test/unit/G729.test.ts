import { describe, expect, it } from 'vitest';
import { G729Decoder, G729Encoder, G729_FRAME_SAMPLES, g729Available } from '../../src/media/codecs/G729.js';
import { dominantFrequency, roundTrip, snr, tone } from '../helpers/audio.js';

describe('G.729 (bcg729 binding)', () => {
  it('is built by npm run build (libbcg729-dev present)', () => {
    expect(g729Available()).toBe(true);
  });

  it('packs 20 ms into two 10-byte frames (annexb=no) and carries speech-band tones: frequency kept', () => {
    for (const freq of [440, 1000]) {
      const pcm = tone({ freq, rate: 8000, samples: 16000, seed: freq });
      const { back, sizes } = roundTrip(new G729Encoder(), new G729Decoder(), pcm, 160);
      expect([...sizes]).toEqual([20]);
      const steady = back.subarray(1600);
      expect(Math.abs(dominantFrequency(steady, 8000) - freq)).toBeLessThanOrEqual(10);
      expect(snr(steady, freq, 8000)).toBeGreaterThan(18);
    }
  });

  it('decodes a trailing Annex B silence descriptor, conceals a lost frame, refuses a torn payload', () => {
    const dec = new G729Decoder();
    const out = new Int16Array(400);
    expect(dec.decode(new Uint8Array(22), 0, 22, out)).toBe(3 * G729_FRAME_SAMPLES);
    expect(dec.decode(new Uint8Array(2), 0, 2, out)).toBe(G729_FRAME_SAMPLES);
    expect(dec.decode(new Uint8Array(0), 0, 0, out)).toBe(G729_FRAME_SAMPLES);
    expect(dec.decode(new Uint8Array(13), 0, 13, out)).toBe(-1);
    expect(dec.decode(new Uint8Array(10), 5, 10, out)).toBe(-1);
    dec.close();
    expect(dec.decode(new Uint8Array(10), 0, 10, out)).toBe(-1);
    const enc = new G729Encoder();
    expect(enc.encode(new Int16Array(160), 100, new Uint8Array(20))).toBe(-1);
    expect(enc.encode(new Int16Array(160), 160, new Uint8Array(10))).toBe(-1);
    enc.close();
  });
});
