import { describe, expect, it } from 'vitest';
import { GSM_FRAME_BYTES, GSM_FRAME_SAMPLES, GsmDecoder, GsmEncoder, gsmAvailable } from '../../src/media/codecs/Gsm.js';
import { dominantFrequency, roundTrip, snr, tone } from '../helpers/audio.js';

describe('GSM 06.10 (libgsm binding)', () => {
  it('is built by npm run build (libgsm1-dev present)', () => {
    expect(gsmAvailable()).toBe(true);
  });

  it('packs 20 ms into one 33-byte frame and carries speech-band tones: frequency kept', () => {
    for (const freq of [440, 1000]) {
      const pcm = tone({ freq, rate: 8000, samples: 16000, seed: freq });
      const { back, sizes } = roundTrip(new GsmEncoder(), new GsmDecoder(), pcm, 160);
      expect([...sizes]).toEqual([GSM_FRAME_BYTES]);
      const steady = back.subarray(1600);
      expect(Math.abs(dominantFrequency(steady, 8000) - freq)).toBeLessThanOrEqual(10);
      expect(snr(steady, freq, 8000)).toBeGreaterThan(25);
    }
  });

  it('decodes several frames in one packet, refuses a torn or unsigned payload and a closed codec', () => {
    const enc = new GsmEncoder();
    const two = new Uint8Array(2 * GSM_FRAME_BYTES);
    expect(enc.encode(new Int16Array(2 * GSM_FRAME_SAMPLES), 2 * GSM_FRAME_SAMPLES, two)).toBe(2 * GSM_FRAME_BYTES);
    expect(enc.encode(new Int16Array(160), 100, new Uint8Array(33))).toBe(-1);
    expect(enc.encode(new Int16Array(160), 160, new Uint8Array(32))).toBe(-1);
    enc.close();
    expect(enc.encode(new Int16Array(160), 160, new Uint8Array(33))).toBe(-1);
    const dec = new GsmDecoder();
    const out = new Int16Array(400);
    expect(dec.decode(two, 0, two.length, out)).toBe(2 * GSM_FRAME_SAMPLES);
    expect(dec.decode(two, 0, 40, out)).toBe(-1);
    expect(dec.decode(two, 0, 0, out)).toBe(-1);
    expect(dec.decode(two, 40, GSM_FRAME_BYTES, out)).toBe(-1);
    expect(dec.decode(new Uint8Array(GSM_FRAME_BYTES), 0, GSM_FRAME_BYTES, out)).toBe(-1);
    expect(dec.decode(two, 0, two.length, new Int16Array(200))).toBe(-1);
    dec.close();
    expect(dec.decode(two, 0, GSM_FRAME_BYTES, out)).toBe(-1);
  });
});
