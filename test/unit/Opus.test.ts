import { describe, expect, it } from 'vitest';
import { OpusDecoder, OpusEncoder, opusAvailable } from '../../src/media/codecs/Opus.js';
import { channel, dominantFrequency, snr, tone } from '../helpers/audio.js';

/** Encodes and decodes `pcm` in 20 ms frames; returns the decoded samples (interleaved). */
function roundTrip(pcm: Int16Array, channels: 1 | 2, rate: 48000 | 16000 | 8000 = 48000): { back: Int16Array; bytes: number } {
  const frame = rate / 50;
  const enc = new OpusEncoder({ sampleRate: rate, channels });
  const dec = new OpusDecoder({ sampleRate: rate, channels });
  const packet = new Uint8Array(1500);
  const back = new Int16Array(pcm.length);
  let bytes = 0;
  for (let o = 0; o + frame * channels <= pcm.length; o += frame * channels) {
    const n = enc.encode(pcm.subarray(o, o + frame * channels), frame, packet);
    expect(n).toBeGreaterThan(0);
    bytes += n;
    expect(dec.decode(packet, 0, n, back.subarray(o, o + frame * channels))).toBe(frame);
  }
  enc.close();
  dec.close();
  return { back, bytes };
}

describe('Opus (libopus binding)', () => {
  it('is built by npm run build (libopus-dev present)', () => {
    expect(opusAvailable()).toBe(true);
  });

  it('carries a 440 Hz and a 1 kHz tone at 48 kHz mono: frequency kept, SNR > 15 dB (a perceptual codec)', () => {
    for (const freq of [440, 1000]) {
      const pcm = tone({ freq, rate: 48000, samples: 48000, seed: freq });
      const { back } = roundTrip(pcm, 1);
      const steady = channel(back, 1, 0).subarray(9600);
      expect(Math.abs(dominantFrequency(steady, 48000, 100, 4000) - freq)).toBeLessThanOrEqual(5);
      expect(snr(steady, freq, 48000)).toBeGreaterThan(15);
    }
  });

  it('keeps the two channels of a stereo stream apart', () => {
    const left = tone({ freq: 500, rate: 48000, samples: 48000, seed: 1 });
    const right = tone({ freq: 1500, rate: 48000, samples: 48000, seed: 2 });
    const pcm = new Int16Array(96000);
    for (let i = 0; i < 48000; i++) {
      pcm[2 * i] = left[i]!;
      pcm[2 * i + 1] = right[i]!;
    }
    const { back } = roundTrip(pcm, 2);
    expect(dominantFrequency(channel(back, 2, 0).subarray(9600), 48000, 100, 4000)).toBe(500);
    expect(dominantFrequency(channel(back, 2, 1).subarray(9600), 48000, 100, 4000)).toBe(1500);
  });

  it('decodes at 8 kHz what was encoded at 48 kHz (libopus resamples inside)', () => {
    const pcm = tone({ freq: 1000, rate: 48000, samples: 48000, seed: 3 });
    const enc = new OpusEncoder();
    const dec = new OpusDecoder({ sampleRate: 8000 });
    const packet = new Uint8Array(1500);
    const back = new Int16Array(8000);
    for (let f = 0; f < 50; f++) {
      const n = enc.encode(pcm.subarray(f * 960, (f + 1) * 960), 960, packet);
      expect(dec.decode(packet, 0, n, back.subarray(f * 160, (f + 1) * 160))).toBe(160);
    }
    expect(dominantFrequency(back.subarray(1600), 8000)).toBe(1000);
    expect(snr(back.subarray(1600), 1000, 8000)).toBeGreaterThan(20);
  });

  it('conceals a lost frame and rejects a malformed packet without throwing', () => {
    const dec = new OpusDecoder();
    const out = new Int16Array(960);
    expect(dec.decode(new Uint8Array(0), 0, 0, out)).toBe(960);
    // TOC code 3 with a frame count of 0 is invalid.
    expect(dec.decode(Uint8Array.of(0x03, 0x00), 0, 2, out)).toBe(-1);
    dec.close();
    expect(dec.decode(new Uint8Array(10), 0, 10, out)).toBe(-1);
  });
});
