import type { Cipher } from 'node:crypto';

/** Packets whose keystream is made in one cipher call (SRTP; SRTCP makes one at a time). */
export const RTP_AHEAD = 16;
/** Longest payload (in 16-byte blocks) made ahead; longer ones get theirs one packet at a time. */
const MAX_BLOCKS = 16;
const BLOCK = 16;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** The 32-bit word whose bytes lie in memory as a, b, c, d (for Int32Array views). */
const word = LITTLE_ENDIAN ? (a: number, b: number, c: number, d: number): number => a | (b << 8) | (c << 16) | (d << 24) : (a: number, b: number, c: number, d: number): number => (a << 24) | (b << 16) | (c << 8) | d;

/**
 * AES-CM keystream (RFC 3711 4.1.1) of one SSRC: counter block = (salt XOR SSRC XOR index) *
 * 2^16 + block number, encrypted with the session key. One call into OpenSSL costs more than
 * the AES itself, so the keystream of the next `ahead` packet indices is made in one ECB call
 * and packets in order take theirs from it; a packet out of that range or longer than
 * `MAX_BLOCKS` blocks is done on its own.
 */
export const KEYSTREAM_SCRATCH = RTP_AHEAD * MAX_BLOCKS * BLOCK;

export class AesCmKeystream {
  /** Packet index of the first packet in `ks`; -1: none made. */
  private base = -1;
  /** Blocks made per packet index in `ks`. */
  private blocks = 0;
  private ks: Buffer = Buffer.alloc(0);
  private ks32: Int32Array = new Int32Array(0);
  private readonly scratch32: Int32Array;
  /** salt XOR SSRC, the 14-byte counter prefix before the index is XORed in. */
  private readonly prefix = Buffer.alloc(14);

  constructor(
    private readonly ecb: Cipher,
    salt: Buffer,
    ssrc: number,
    /** Counter blocks are written here before the cipher call (shared by a session's streams). */
    private readonly scratch: Buffer,
    private readonly ahead: number,
  ) {
    salt.copy(this.prefix, 0, 0, 14);
    this.prefix.writeUInt32BE((this.prefix.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    this.scratch32 = new Int32Array(scratch.buffer, scratch.byteOffset, scratch.length >>> 2);
  }

  /** XORs the keystream of packet `index` into p[from, to). */
  xor(p: Buffer, from: number, to: number, index: number): void {
    const n = to - from;
    if (n <= 0) return;
    const need = (n + BLOCK - 1) >>> 4;
    if (this.base >= 0 && index >= this.base && index < this.base + this.ahead && need <= this.blocks) {
      xorInto(p, from, n, this.ks, this.ks32, (index - this.base) * this.blocks * BLOCK);
    } else if (need > MAX_BLOCKS || (index < this.base && index >= this.base - this.ahead)) {
      // Long, or a little late (the batch ahead stays): this packet's keystream alone.
      const ks = this.make(index, 1, need);
      xorInto(p, from, n, ks, null, 0);
    } else {
      this.blocks = Math.max(need, this.blocks);
      this.base = index;
      this.ks = this.make(index, this.ahead, this.blocks);
      this.ks32 = (this.ks.byteOffset & 3) === 0 ? new Int32Array(this.ks.buffer, this.ks.byteOffset, this.ks.length >>> 2) : new Int32Array(0);
      xorInto(p, from, n, this.ks, this.ks32, 0);
    }
  }

  /** Keystream of `packets` indices from `index` on, `blocks` blocks each, in one cipher call. */
  private make(index: number, packets: number, blocks: number): Buffer {
    const len = packets * blocks * BLOCK;
    if (len > this.scratch.length) return this.ecb.update(this.counters(Buffer.alloc(len), index, packets, blocks));
    // Four words per counter block: prefix (constant), prefix XOR index (per packet), block number.
    const w = this.scratch32;
    const pre = this.prefix;
    const w0 = word(pre[0]!, pre[1]!, pre[2]!, pre[3]!);
    const w1 = word(pre[4]!, pre[5]!, pre[6]!, pre[7]!);
    let o = 0;
    for (let k = 0; k < packets; k++) {
      const ix = index + k;
      const hi = Math.floor(ix / 0x100000000);
      const lo = ix >>> 0;
      const w2 = word(pre[8]! ^ ((hi >>> 8) & 0xff), pre[9]! ^ (hi & 0xff), pre[10]! ^ (lo >>> 24), pre[11]! ^ ((lo >>> 16) & 0xff));
      const b12 = pre[12]! ^ ((lo >>> 8) & 0xff);
      const b13 = pre[13]! ^ (lo & 0xff);
      for (let b = 0; b < blocks; b++, o += 4) {
        w[o] = w0;
        w[o + 1] = w1;
        w[o + 2] = w2;
        w[o + 3] = word(b12, b13, b >>> 8, b & 0xff);
      }
    }
    return this.ecb.update(this.scratch.subarray(0, len));
  }

  /** Counter blocks written byte by byte (a buffer of any alignment). */
  private counters(buf: Buffer, index: number, packets: number, blocks: number): Buffer {
    const pre = this.prefix;
    let o = 0;
    for (let k = 0; k < packets; k++) {
      const ix = index + k;
      const hi = Math.floor(ix / 0x100000000);
      const lo = ix >>> 0;
      for (let b = 0; b < blocks; b++, o += BLOCK) {
        pre.copy(buf, o, 0, 8);
        buf[o + 8] = pre[8]! ^ ((hi >>> 8) & 0xff);
        buf[o + 9] = pre[9]! ^ (hi & 0xff);
        buf[o + 10] = pre[10]! ^ (lo >>> 24);
        buf[o + 11] = pre[11]! ^ ((lo >>> 16) & 0xff);
        buf[o + 12] = pre[12]! ^ ((lo >>> 8) & 0xff);
        buf[o + 13] = pre[13]! ^ (lo & 0xff);
        buf[o + 14] = b >>> 8;
        buf[o + 15] = b & 0xff;
      }
    }
    return buf;
  }
}

/** p[from, from + n) ^= ks[at, at + n): four bytes at a time where both are aligned (`ks32`: ks as words). */
function xorInto(p: Buffer, from: number, n: number, ks: Buffer, ks32: Int32Array | null, at: number): void {
  let i = 0;
  if (ks32 !== null && ks32.length > 0 && ((p.byteOffset + from) & 3) === 0 && n >= 32) {
    const words = n >>> 2;
    const v = new Int32Array(p.buffer, p.byteOffset + from, words);
    const k0 = at >>> 2;
    for (let j = 0; j < words; j++) v[j]! ^= ks32[k0 + j]!;
    i = words << 2;
  }
  for (; i < n; i++) p[from + i]! ^= ks[at + i]!;
}
