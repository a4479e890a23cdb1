import { G711Decoder, G711Encoder, g711Tables } from './G711.js';

/**
 * G.711 A-law (PCMA, payload type 8): 8 kHz mono, one byte per sample. Table-driven both ways;
 * compression codes the same bytes as rtpengine does (see g711Tables).
 */
function expand(code: number): number {
  const a = code ^ 0x55;
  let i = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg) i = (i + 0x108) << (seg - 1);
  else i += 8;
  return a & 0x80 ? i : -i;
}

const tables = g711Tables(expand, 0xd5);
/** Indexed by the sample's 16 bits (`sample & 0xffff`). */
export const ALAW_ENCODE = tables.encode;
export const ALAW_DECODE = tables.decode;

/** The A-law byte of silence (the smallest positive step). */
export const ALAW_SILENCE = 0xd5;

export class PcmaEncoder extends G711Encoder {
  constructor(rate = 8000) {
    super(ALAW_ENCODE, rate);
  }
}

export class PcmaDecoder extends G711Decoder {
  constructor(rate = 8000) {
    super(ALAW_DECODE, rate);
  }
}
