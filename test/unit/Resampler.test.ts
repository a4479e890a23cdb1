import { describe, expect, it } from 'vitest';
import { downmix, upmix } from '../../src/media/engine/ChannelMix.js';
import { Resampler } from '../../src/media/engine/Resampler.js';
import { dominantFrequency, snr, tone } from '../helpers/audio.js';

/** Resamples a tone in 20 ms frames; returns the output after the filter has settled. */
function through(inRate: number, outRate: number, freq: number, seed: number): Int16Array {
  const r = new Resampler(inRate, outRate, inRate / 50);
  const input = tone({ freq, rate: inRate, samples: inRate, amplitude: 10000, seed });
  const out = new Int16Array(r.maxOutput(inRate) + 64);
  let n = 0;
  for (let o = 0; o < inRate; o += inRate / 50) n += r.process(input.subarray(o, o + inRate / 50), inRate / 50, out.subarray(n));
  // libswresample (rtpengine's resampler) holds back 16 samples at the lower rate.
  expect(n).toBe(outRate - 16 * Math.max(1, outRate / inRate));
  return out.subarray(outRate / 10, n);
}

const rms = (x: Int16Array): number => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
const db = (x: number): number => 20 * Math.log10(x);

describe('Resampler', () => {
  const pairs = [
    [8000, 16000], [16000, 8000], [8000, 48000], [48000, 8000], [16000, 48000], [48000, 16000],
  ] as const;

  for (const [inRate, outRate] of pairs) {
    it(`${inRate} → ${outRate} Hz: flat pass band, tones kept at their frequency with SNR > 50 dB`, () => {
      const edge = Math.min(inRate, outRate) / 2;
      for (const [i, freq] of [300, 1000, 2000, 3000, 0.85 * edge].entries()) {
        const out = through(inRate, outRate, freq, i + 1);
        // 10000 peak = 7071 RMS; within ±0.5 dB across the pass band.
        expect(Math.abs(db(rms(out) / 7071))).toBeLessThan(0.5);
        expect(Math.abs(dominantFrequency(out, outRate, freq - 200, freq + 200, 1) - freq)).toBeLessThanOrEqual(1);
        expect(snr(out, freq, outRate)).toBeGreaterThan(50);
      }
    });
  }

  for (const [inRate, outRate] of [[16000, 8000], [48000, 8000], [48000, 16000]] as const) {
    it(`${inRate} → ${outRate} Hz: what the lower rate cannot carry is stopped (> 70 dB from 5 % above its Nyquist), not aliased`, () => {
      const nyquist = outRate / 2;
      for (const freq of [nyquist * 1.05, nyquist * 1.5, inRate / 2 - 500]) {
        const out = through(inRate, outRate, freq, 9);
        expect(db(rms(out) / 7071)).toBeLessThan(-70);
      }
    });
  }

  it('8 → 48 kHz: the upsampled signal has no images of the tone above 4 kHz (> 55 dB down)', () => {
    const out = through(8000, 48000, 1000, 3);
    // An image of 1 kHz at 8 kHz sampling would sit at 7, 9, 15, 17 kHz.
    const fit = Array.from(out);
    expect(snr(fit, 1000, 48000)).toBeGreaterThan(55);
  });

  it('starts as libswresample does: nothing until its filter length is in, then as many samples, with no ramp from silence', () => {
    // Counts per call from Debian's libswresample 4.7 (rtpengine 10.5's), default options, mono s16.
    const cases = [
      [16000, 8000, [30, 30, 10, 320, 7], [0, 0, 19, 160, 3]],
      [8000, 48000, [20, 10, 160, 33], [0, 0, 1044, 198]],
      [48000, 16000, [100, 99, 960], [0, 50, 320]],
      [24000, 32000, [480, 480], [619, 640]],
    ] as const;
    for (const [inRate, outRate, sizes, counts] of cases) {
      const r = new Resampler(inRate, outRate, 960);
      const out = new Int16Array(r.maxOutput(960));
      const got = sizes.map((n) => {
        const m = r.process(new Int16Array(n).fill(-32124), n, out);
        // A constant signal comes out constant from the first sample (the start is mirrored, not zero).
        for (let i = 0; i < m; i++) expect(out[i]).toBe(-32124);
        return m;
      });
      expect(got).toEqual(counts);
    }
  });

  it('mixes mono to stereo and back', () => {
    const mono = Int16Array.of(1, -2, 300);
    const stereo = new Int16Array(6);
    upmix(mono, 3, stereo);
    expect(Array.from(stereo)).toEqual([1, 1, -2, -2, 300, 300]);
    stereo[1] = 3;
    const back = new Int16Array(3);
    downmix(stereo, 3, back);
    expect(Array.from(back)).toEqual([2, -2, 300]);
  });
});
