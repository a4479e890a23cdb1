import { describe, expect, it } from 'vitest';
import { SpeexDecoder, SpeexEncoder, speexAvailable } from '../../src/media/codecs/Speex.js';
import { rng } from '../helpers/health.js';
import { dominantFrequency, roundTrip, snr, tone } from '../helpers/audio.js';

describe('speex (libspeex binding)', () => {
  it('is built by npm run build (libspeex-dev present)', () => {
    expect(speexAvailable()).toBe(true);
  });

  for (const [rate, bytes, minSnr] of [[8000, 28, 12], [16000, 25, 14], [32000, 24, 3]] as const) {
    it(`${rate} Hz at 11 kbit/s: one 20 ms frame a packet, speech-band tones keep their frequency`, () => {
      for (const freq of [440, 1000]) {
        const frame = rate / 50;
        const pcm = tone({ freq, rate, samples: rate, seed: freq });
        const { back, sizes } = roundTrip(new SpeexEncoder(rate), new SpeexDecoder(rate), pcm, frame);
        expect(sizes.size).toBe(1);
        expect([...sizes]).toEqual([bytes]);
        const steady = back.subarray(rate / 5);
        expect(Math.abs(dominantFrequency(steady, rate) - freq)).toBeLessThanOrEqual(10);
        expect(snr(steady, freq, rate)).toBeGreaterThan(minSnr);
      }
    });
  }

  it('refuses empty, oversized and hostile payloads and a closed codec, never crashing', () => {
    const dec = new SpeexDecoder(16000);
    const out = new Int16Array(320 * 16);
    expect(dec.decode(new Uint8Array(10), 0, 0, out)).toBe(-1);
    expect(dec.decode(new Uint8Array(10), 5, 10, out)).toBe(-1);
    expect(dec.decode(new Uint8Array(3000), 0, 3000, out)).toBe(-1);
    const r = rng(20);
    const junk = new Uint8Array(200);
    for (let i = 0; i < 500; i++) {
      for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(r() * 256);
      const n = dec.decode(junk, 0, 1 + (i % junk.length), out);
      expect(n === -1 || (n > 0 && n % 320 === 0 && n <= out.length)).toBe(true);
    }
    const enc = new SpeexEncoder(16000);
    expect(enc.encode(new Int16Array(320), 160, new Uint8Array(100))).toBe(-1);
    expect(enc.encode(new Int16Array(320), 320, new Uint8Array(4))).toBe(-1);
    const packet = new Uint8Array(100);
    const n = enc.encode(new Int16Array(640), 640, packet);
    expect(dec.decode(packet, 0, n, out)).toBe(640);
    expect(dec.decode(packet, 0, n, new Int16Array(100))).toBe(-1);
    enc.close();
    dec.close();
    expect(dec.decode(packet, 0, n, out)).toBe(-1);
    expect(enc.encode(new Int16Array(320), 320, packet)).toBe(-1);
    expect(() => new SpeexDecoder(48000 as 8000)).toThrow(/8000, 16000 or 32000/);
  });
});
