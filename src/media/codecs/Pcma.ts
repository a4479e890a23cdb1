import type { AudioDecoder, AudioEncoder } from './AudioCodec.js';

/**
 * G.711 A-law (PCMA, payload type 8): 8 kHz mono, one byte per sample. Table-driven both ways;
 * the compression rounds as libspandsp does (a negative sample's magnitude is its one's
 * complement, as G.191 codes it).
 */
function compress(linear: number): number {
  let mask: number;
  if (linear >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    linear = -linear - 1;
  }
  const seg = 31 - Math.clz32(linear | 0xff) - 7;
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((linear >> (seg ? seg + 3 : 4)) & 0x0f)) ^ mask;
}

function expand(code: number): number {
  const a = code ^ 0x55;
  let i = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg) i = (i + 0x108) << (seg - 1);
  else i += 8;
  return a & 0x80 ? i : -i;
}

/** Indexed by the sample's 16 bits (`sample & 0xffff`). */
export const ALAW_ENCODE = new Uint8Array(65536);
export const ALAW_DECODE = new Int16Array(256);
for (let i = 0; i < 65536; i++) ALAW_ENCODE[i] = compress((i << 16) >> 16);
for (let i = 0; i < 256; i++) ALAW_DECODE[i] = expand(i);

/** The A-law byte of silence (the smallest positive step). */
export const ALAW_SILENCE = 0xd5;

export class PcmaEncoder implements AudioEncoder {
  readonly sampleRate = 8000;
  readonly channels = 1;
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    for (let i = 0; i < samples; i++) out[i] = ALAW_ENCODE[pcm[i]! & 0xffff]!;
    return samples;
  }
  close(): void {}
}

export class PcmaDecoder implements AudioDecoder {
  readonly sampleRate = 8000;
  readonly channels = 1;
  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    const n = Math.min(length, out.length);
    for (let i = 0; i < n; i++) out[i] = ALAW_DECODE[payload[offset + i]!]!;
    return n;
  }
  close(): void {}
}
