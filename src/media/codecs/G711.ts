import type { AudioDecoder, AudioEncoder } from './AudioCodec.js';

/**
 * G.711 coding through tables (µ-law and A-law differ only in their tables, Pcmu.ts and
 * Pcma.ts): mono, one byte per sample (8 kHz, or the RTP clock an SDP gives it, as rtpengine
 * runs G.711 at any rate), the encoder indexed by a sample's 16 bits.
 */
export class G711Encoder implements AudioEncoder {
  readonly channels = 1;
  constructor(private readonly table: Uint8Array, readonly sampleRate = 8000) {}
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    const table = this.table;
    for (let i = 0; i < samples; i++) out[i] = table[pcm[i]! & 0xffff]!;
    return samples;
  }
  close(): void {}
}

export class G711Decoder implements AudioDecoder {
  readonly channels = 1;
  constructor(private readonly table: Int16Array, readonly sampleRate = 8000) {}
  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    const table = this.table;
    const n = Math.min(length, out.length);
    for (let i = 0; i < n; i++) out[i] = table[payload[offset + i]!]!;
    return n;
  }
  close(): void {}
}

/**
 * Both tables of one law, made once from its expansion. `positiveZero` is the code of the
 * smallest positive level (A-law 0xd5, µ-law 0xff); the n-th positive level is
 * `positiveZero ^ n`, its negative twin `positiveZero ^ n ^ 0x80`.
 *
 * Compression is rtpengine's (libavcodec's): the sample is taken to the 14-bit grid (the
 * magnitude of a positive sample rounded down, of a negative one rounded up) and coded as the
 * level nearest to it, a magnitude halfway between two levels taking the larger one. G.191's
 * reference coder uses G.711's decision values instead; the two differ only at the decision
 * values themselves (a negative sample on one) and next to the segment edges, where G.711's
 * decision value is not the midpoint of the two levels around it.
 */
export function g711Tables(expand: (code: number) => number, positiveZero: number): { encode: Uint8Array; decode: Int16Array } {
  const decode = new Int16Array(256);
  for (let i = 0; i < 256; i++) decode[i] = expand(i);
  const level = (n: number): number => decode[positiveZero ^ n]!;
  // The code index of every 14-bit magnitude 0..8192.
  const byMagnitude = new Uint8Array(8193);
  let n = 0;
  for (let m = 0; m <= 8192; m++) {
    // The midpoint of levels n and n+1 on the 14-bit grid, rounded half up.
    while (n < 127 && m >= (level(n) + level(n + 1) + 4) >> 3) n++;
    byMagnitude[m] = n;
  }
  const encode = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) {
    const linear = (i << 16) >> 16;
    encode[i] = linear >= 0 ? positiveZero ^ byMagnitude[linear >> 2]! : positiveZero ^ 0x80 ^ byMagnitude[Math.min(8191, (3 - linear) >> 2)]!;
  }
  return { encode, decode };
}
