import { G711Decoder, G711Encoder, g711Tables } from './G711.js';

/**
 * G.711 µ-law (PCMU, payload type 0): 8 kHz mono, one byte per sample. Table-driven both ways;
 * compression codes the same bytes as rtpengine does (see g711Tables).
 */
const BIAS = 0x84;

function expand(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? BIAS - t : t - BIAS;
}

const tables = g711Tables(expand, 0xff);
/** Indexed by the sample's 16 bits (`sample & 0xffff`). */
export const ULAW_ENCODE = tables.encode;
export const ULAW_DECODE = tables.decode;

/** The µ-law byte of silence. */
export const ULAW_SILENCE = 0xff;

export class PcmuEncoder extends G711Encoder {
  constructor(rate = 8000) {
    super(ULAW_ENCODE, rate);
  }
}

export class PcmuDecoder extends G711Decoder {
  constructor(rate = 8000) {
    super(ULAW_DECODE, rate);
  }
}
