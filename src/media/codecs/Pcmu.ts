import type { AudioDecoder, AudioEncoder } from './AudioCodec.js';

/**
 * G.711 µ-law (PCMU, payload type 0): 8 kHz mono, one byte per sample. Table-driven both ways;
 * the compression rounds as libspandsp and ffmpeg do (the magnitude of a negative sample is its
 * negation), so a relay in the middle codes the same bytes as the endpoints' stacks.
 */
const BIAS = 0x84;

function compress(linear: number): number {
  let mask: number;
  if (linear < 0) {
    linear = BIAS - linear;
    mask = 0x7f;
  } else {
    linear = BIAS + linear;
    mask = 0xff;
  }
  const seg = 31 - Math.clz32(linear | 0xff) - 7;
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((linear >> (seg + 3)) & 0x0f)) ^ mask;
}

function expand(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? BIAS - t : t - BIAS;
}

/** Indexed by the sample's 16 bits (`sample & 0xffff`). */
export const ULAW_ENCODE = new Uint8Array(65536);
export const ULAW_DECODE = new Int16Array(256);
for (let i = 0; i < 65536; i++) ULAW_ENCODE[i] = compress((i << 16) >> 16);
for (let i = 0; i < 256; i++) ULAW_DECODE[i] = expand(i);

/** The µ-law byte of silence. */
export const ULAW_SILENCE = 0xff;

export class PcmuEncoder implements AudioEncoder {
  readonly sampleRate = 8000;
  readonly channels = 1;
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    for (let i = 0; i < samples; i++) out[i] = ULAW_ENCODE[pcm[i]! & 0xffff]!;
    return samples;
  }
  close(): void {}
}

export class PcmuDecoder implements AudioDecoder {
  readonly sampleRate = 8000;
  readonly channels = 1;
  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    const n = Math.min(length, out.length);
    for (let i = 0; i < n; i++) out[i] = ULAW_DECODE[payload[offset + i]!]!;
    return n;
  }
  close(): void {}
}
