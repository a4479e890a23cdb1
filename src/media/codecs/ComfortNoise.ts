/**
 * RFC 3389 comfort noise (CN): the payload's first byte is the noise level in -dBov (0-127),
 * optional spectral coefficients follow (read and ignored: the generator makes white noise at
 * the level, as the RFC allows a receiver to do).
 */

/** The level byte for a frame of samples: its RMS in -dBov, 127 for digital silence. */
export function noiseLevel(pcm: Int16Array, samples: number): number {
  let sum = 0;
  for (let i = 0; i < samples; i++) sum += pcm[i]! * pcm[i]!;
  if (sum === 0 || samples === 0) return 127;
  const dBov = 10 * Math.log10(sum / samples / (32767 * 32767));
  const level = Math.round(-dBov);
  return level < 0 ? 0 : level > 127 ? 127 : level;
}

/** Writes a CN payload of one level byte; returns its length (1). */
export function writeComfortNoise(out: Uint8Array, offset: number, level: number): number {
  out[offset] = level & 0x7f;
  return 1;
}

/** Makes white noise at a CN payload's level. Deterministic for a given seed. */
export class ComfortNoiseGenerator {
  private state: number;

  constructor(seed = 0x2545f491) {
    this.state = seed >>> 0 || 1;
  }

  /** Fills `samples` samples of `out` with noise at `level` (-dBov, 0-127). */
  fill(level: number, out: Int16Array, samples: number): void {
    // Uniform noise in [-a, a] has an RMS of a/√3.
    const a = 32767 * Math.pow(10, -(level & 0x7f) / 20) * Math.sqrt(3);
    let x = this.state;
    for (let i = 0; i < samples; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const v = Math.round(((x >>> 0) / 4294967296 - 0.5) * 2 * a);
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    this.state = x >>> 0;
  }
}
