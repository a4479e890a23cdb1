import type { AudioDecoder, AudioEncoder } from './AudioCodec.js';

/**
 * G.711 coding through tables (µ-law and A-law differ only in their tables, Pcmu.ts and
 * Pcma.ts): 8 kHz mono, one byte per sample, the encoder indexed by a sample's 16 bits.
 */
export class G711Encoder implements AudioEncoder {
  readonly sampleRate = 8000;
  readonly channels = 1;
  constructor(private readonly table: Uint8Array) {}
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    const table = this.table;
    for (let i = 0; i < samples; i++) out[i] = table[pcm[i]! & 0xffff]!;
    return samples;
  }
  close(): void {}
}

export class G711Decoder implements AudioDecoder {
  readonly sampleRate = 8000;
  readonly channels = 1;
  constructor(private readonly table: Int16Array) {}
  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    const table = this.table;
    const n = Math.min(length, out.length);
    for (let i = 0; i < n; i++) out[i] = table[payload[offset + i]!]!;
    return n;
  }
  close(): void {}
}

/** Both tables of one law, made once from its compress and expand functions. */
export function g711Tables(compress: (linear: number) => number, expand: (code: number) => number): { encode: Uint8Array; decode: Int16Array } {
  const encode = new Uint8Array(65536);
  const decode = new Int16Array(256);
  for (let i = 0; i < 65536; i++) encode[i] = compress((i << 16) >> 16);
  for (let i = 0; i < 256; i++) decode[i] = expand(i);
  return { encode, decode };
}
