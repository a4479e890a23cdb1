import { G711Decoder, G711Encoder, g711Tables } from './G711.js';

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

const tables = g711Tables(compress, expand);
/** Indexed by the sample's 16 bits (`sample & 0xffff`). */
export const ALAW_ENCODE = tables.encode;
export const ALAW_DECODE = tables.decode;

/** The A-law byte of silence (the smallest positive step). */
export const ALAW_SILENCE = 0xd5;

export class PcmaEncoder extends G711Encoder {
  constructor() {
    super(ALAW_ENCODE);
  }
}

export class PcmaDecoder extends G711Decoder {
  constructor() {
    super(ALAW_DECODE);
  }
}
