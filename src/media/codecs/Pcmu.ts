import { G711Decoder, G711Encoder, g711Tables } from './G711.js';

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

const tables = g711Tables(compress, expand);
/** Indexed by the sample's 16 bits (`sample & 0xffff`). */
export const ULAW_ENCODE = tables.encode;
export const ULAW_DECODE = tables.decode;

/** The µ-law byte of silence. */
export const ULAW_SILENCE = 0xff;

export class PcmuEncoder extends G711Encoder {
  constructor() {
    super(ULAW_ENCODE);
  }
}

export class PcmuDecoder extends G711Decoder {
  constructor() {
    super(ULAW_DECODE);
  }
}
