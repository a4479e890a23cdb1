import { beforeAll, describe, expect, it } from 'vitest';
import { G722Decoder, G722Encoder } from '../../src/media/codecs/G722.js';
import { rng } from '../helpers/health.js';
import { dominantFrequency, snr, tone } from '../helpers/audio.js';
import { SpandspCodec } from '../helpers/spandsp.js';

/** Speech-like test input: tones, sweeps, noise bursts, full-scale steps and silence, seeded. */
function mixedSignal(samples: number, seed: number, peak = 32767): Int16Array {
  const r = rng(seed);
  const out = new Int16Array(samples);
  let i = 0;
  while (i < samples) {
    const len = Math.min(samples - i, 400 + Math.floor(r() * 1600));
    const kind = Math.floor(r() * 5);
    const f = 50 + r() * 7900;
    const amp = r() * peak;
    for (let k = 0; k < len; k++, i++) {
      let v = 0;
      if (kind === 0) v = amp * Math.sin((2 * Math.PI * f * k) / 16000);
      else if (kind === 1) v = amp * Math.sin((2 * Math.PI * (f * k * k)) / (16000 * 16000 * 4));
      else if (kind === 2) v = (r() * 2 - 1) * amp;
      else if (kind === 3) v = k % 200 < 100 ? peak : -peak - 1;
      out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
    }
  }
  return out;
}

describe('G.722 (64 kbit/s)', () => {
  let ref: SpandspCodec;
  beforeAll(() => {
    ref = new SpandspCodec();
  });

  it('encodes bit-exactly as the reference coder (libspandsp, which passes the ITU test sequences)', () => {
    const pcm = mixedSignal(16000 * 20, 1);
    const enc = new G722Encoder();
    const out = new Uint8Array(pcm.length / 2);
    // In 20 ms frames, as the engine feeds it: the state carries over between calls.
    for (let o = 0; o < pcm.length; o += 320) enc.encode(pcm.subarray(o, o + 320), 320, out.subarray(o / 2));
    const want = ref.encode('g722-enc', pcm);
    expect(want.length).toBe(out.length);
    let first = -1;
    for (let i = 0; i < out.length && first < 0; i++) if (out[i] !== want[i]) first = i;
    expect(first).toBe(-1);
  });

  it('decodes bit-exactly as the reference coder, saturating where its 16-bit output wraps', () => {
    const r = rng(2);
    const noise = Uint8Array.from({ length: 8000 * 10 }, () => Math.floor(r() * 256));
    // Coded speech-level audio decodes without overflow: there both must agree everywhere.
    const coded = ref.encode('g722-enc', mixedSignal(16000 * 10, 3, 8000));
    const loud = ref.encode('g722-enc', mixedSignal(16000 * 10, 5));
    for (const input of [coded, loud, noise]) {
      const dec = new G722Decoder();
      const out = new Int16Array(input.length * 2);
      for (let o = 0; o < input.length; o += 160) dec.decode(input.subarray(o, o + 160), 0, Math.min(160, input.length - o), out.subarray(o * 2));
      const want = ref.decode('g722-dec', input);
      let differ = 0;
      for (let i = 0; i < out.length; i++) {
        if (out[i] === want[i]) continue;
        differ++;
        // libspandsp casts an overflowing QMF output to 16 bits (a full-scale click of the
        // opposite sign); this decoder clips it.
        expect(out[i] === 32767 || out[i] === -32768).toBe(true);
        expect(Math.sign(out[i]!)).toBe(-Math.sign(want[i]!));
      }
      if (input === coded) expect(differ).toBe(0);
    }
  });

  it('carries a 7 kHz tone (wideband) and a 440 Hz tone with high SNR', () => {
    for (const freq of [440, 7000]) {
      const pcm = tone({ freq, rate: 16000, samples: 16000, seed: 4 });
      const bytes = new Uint8Array(8000);
      const back = new Int16Array(16000);
      new G722Encoder().encode(pcm, 16000, bytes);
      expect(new G722Decoder().decode(bytes, 0, 8000, back)).toBe(16000);
      const steady = back.subarray(800);
      expect(dominantFrequency(steady, 16000)).toBeCloseTo(freq, -1);
      expect(snr(steady, freq, 16000)).toBeGreaterThan(freq < 4000 ? 30 : 20);
    }
  });
});
