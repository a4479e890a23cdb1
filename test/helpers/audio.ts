import type { AudioDecoder, AudioEncoder } from '../../src/media/codecs/AudioCodec.js';
import { rng } from './health.js';

/**
 * Test signals and their measurement: a seeded tone (random phase and a little noise, so no
 * run depends on a lucky alignment), its dominant frequency, and its SNR against the best-fitting
 * sine of a given frequency.
 */
export function tone(opts: { freq: number; rate: number; samples: number; amplitude?: number; seed: number; channels?: number }): Int16Array {
  const r = rng(opts.seed);
  const ch = opts.channels ?? 1;
  const phase = r() * 2 * Math.PI;
  const amp = opts.amplitude ?? 8000;
  const out = new Int16Array(opts.samples * ch);
  for (let i = 0; i < opts.samples; i++) {
    const v = Math.round(amp * Math.sin(phase + (2 * Math.PI * opts.freq * i) / opts.rate));
    for (let c = 0; c < ch; c++) out[i * ch + c] = v;
  }
  return out;
}

/** One channel of interleaved samples, as floats. */
export function channel(pcm: Int16Array, channels: number, c: number): Float64Array {
  const out = new Float64Array(Math.floor(pcm.length / channels));
  for (let i = 0; i < out.length; i++) out[i] = pcm[i * channels + c]!;
  return out;
}

/** Power at one frequency (Goertzel). */
export function powerAt(x: ArrayLike<number>, freq: number, rate: number): number {
  const w = (2 * Math.PI * freq) / rate;
  const k = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s = x[i]! + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

/** The frequency (to `step` Hz) with the most power between `lo` and `hi`. */
export function dominantFrequency(x: ArrayLike<number>, rate: number, lo = 100, hi = rate / 2 - 100, step = 5): number {
  let best = lo;
  let bestP = -1;
  for (let f = lo; f <= hi; f += step) {
    const p = powerAt(x, f, rate);
    if (p > bestP) {
      bestP = p;
      best = f;
    }
  }
  return best;
}

/**
 * Signal-to-noise ratio in dB of `x` as a sine of `freq`: the least-squares sine (with DC) is the
 * signal, everything else the noise.
 */
export function snr(x: ArrayLike<number>, freq: number, rate: number): number {
  const n = x.length;
  const w = (2 * Math.PI * freq) / rate;
  // Normal equations for a·sin + b·cos + c.
  let ss = 0, cc = 0, sc = 0, s1 = 0, c1 = 0, xs = 0, xc = 0, x1 = 0;
  for (let i = 0; i < n; i++) {
    const s = Math.sin(w * i);
    const c = Math.cos(w * i);
    const v = x[i]!;
    ss += s * s; cc += c * c; sc += s * c; s1 += s; c1 += c;
    xs += v * s; xc += v * c; x1 += v;
  }
  const m = [
    [ss, sc, s1, xs],
    [sc, cc, c1, xc],
    [s1, c1, n, x1],
  ];
  for (let i = 0; i < 3; i++) {
    for (let j = i + 1; j < 3; j++) {
      const f = m[j]![i]! / m[i]![i]!;
      for (let k = i; k < 4; k++) m[j]![k]! -= f * m[i]![k]!;
    }
  }
  const sol = [0, 0, 0];
  for (let i = 2; i >= 0; i--) {
    let v = m[i]![3]!;
    for (let k = i + 1; k < 3; k++) v -= m[i]![k]! * sol[k]!;
    sol[i] = v / m[i]![i]!;
  }
  const [a, b, c] = sol as [number, number, number];
  let sig = 0;
  let noise = 0;
  for (let i = 0; i < n; i++) {
    const fit = a * Math.sin(w * i) + b * Math.cos(w * i);
    sig += fit * fit;
    const e = x[i]! - fit - c;
    noise += e * e;
  }
  return 10 * Math.log10(sig / Math.max(noise, 1e-9));
}

/**
 * Encodes and decodes `pcm` (mono) packet by packet, `frame` samples each, checking that every
 * packet decodes to `frame` samples; returns what came back and the sizes of the packets.
 */
export function roundTrip(enc: AudioEncoder, dec: AudioDecoder, pcm: Int16Array, frame: number): { back: Int16Array; sizes: Set<number> } {
  const packet = new Uint8Array(1500);
  const back = new Int16Array(pcm.length);
  const sizes = new Set<number>();
  for (let o = 0; o + frame <= pcm.length; o += frame) {
    const n = enc.encode(pcm.subarray(o, o + frame), frame, packet);
    sizes.add(n);
    if (dec.decode(packet, 0, n, back.subarray(o, o + frame)) !== frame) throw new Error(`packet at ${o} did not decode to ${frame} samples`);
  }
  enc.close();
  dec.close();
  return { back, sizes };
}
