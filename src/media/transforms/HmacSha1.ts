import { createHash } from 'node:crypto';

const BLOCK = 64;

/**
 * HMAC-SHA1 (RFC 2104) under one key, for SRTP's per-packet tags: the SHA-1 states after the
 * key's inner and outer pad blocks are computed once, so a packet costs only its own blocks
 * and one outer block, in place, with no allocation. Node's `createHmac` builds and keys a new
 * OpenSSL context for every packet instead, which costs more than the hashing itself.
 */
export class HmacSha1 {
  private readonly inner = new Int32Array(5);
  private readonly outer = new Int32Array(5);
  private readonly h = new Int32Array(5);
  private readonly w = new Int32Array(80);
  /** The message's tail, padding and length: one or two blocks. */
  private readonly tail = Buffer.alloc(2 * BLOCK);

  constructor(key: Buffer) {
    const k = Buffer.alloc(BLOCK);
    (key.length > BLOCK ? createHash('sha1').update(key).digest() : key).copy(k);
    const pad = Buffer.alloc(BLOCK);
    for (const [state, byte] of [[this.inner, 0x36], [this.outer, 0x5c]] as const) {
      for (let i = 0; i < BLOCK; i++) pad[i] = k[i]! ^ byte;
      this.reset();
      this.block(pad, 0);
      state.set(this.h);
    }
  }

  /**
   * MAC of p[0, len) followed by the 32-bit big-endian `suffix` (SRTP's ROC) unless it is
   * negative; the first `length` bytes of it are written at out[at] (`sign`) or compared
   * with them (`check`).
   */
  sign(p: Buffer, len: number, suffix: number, out: Buffer, at: number, length: number): void {
    this.mac(p, len, suffix);
    const h = this.h;
    for (let i = 0; i < length; i++) out[at + i] = h[i >>> 2]! >>> (24 - 8 * (i & 3));
  }

  check(p: Buffer, len: number, suffix: number, tag: Buffer, at: number, length: number): boolean {
    this.mac(p, len, suffix);
    const h = this.h;
    let diff = 0;
    for (let i = 0; i < length; i++) diff |= (tag[at + i]! ^ (h[i >>> 2]! >>> (24 - 8 * (i & 3)))) & 0xff;
    return diff === 0;
  }

  private reset(): void {
    this.h[0] = 0x67452301;
    this.h[1] = 0xefcdab89 | 0;
    this.h[2] = 0x98badcfe | 0;
    this.h[3] = 0x10325476;
    this.h[4] = 0xc3d2e1f0 | 0;
  }

  private mac(p: Buffer, len: number, suffix: number): void {
    const h = this.h;
    const tail = this.tail;
    h.set(this.inner);
    const full = len & ~(BLOCK - 1);
    for (let off = 0; off < full; off += BLOCK) this.block(p, off);
    let n = len - full;
    p.copy(tail, 0, full, len);
    if (suffix >= 0) {
      tail[n] = suffix >>> 24;
      tail[n + 1] = suffix >>> 16;
      tail[n + 2] = suffix >>> 8;
      tail[n + 3] = suffix;
      n += 4;
    }
    this.finish(tail, n, BLOCK + len + (suffix >= 0 ? 4 : 0));
    // Outer hash: the inner digest, one block.
    for (let i = 0; i < 5; i++) {
      const v = h[i]!;
      tail[4 * i] = v >>> 24;
      tail[4 * i + 1] = v >>> 16;
      tail[4 * i + 2] = v >>> 8;
      tail[4 * i + 3] = v;
    }
    h.set(this.outer);
    this.finish(tail, 20, BLOCK + 20);
  }

  /** Pads tail[0, n) (the last bytes of a message `total` bytes long) and hashes it. */
  private finish(tail: Buffer, n: number, total: number): void {
    tail[n++] = 0x80;
    const end = n + 8 <= BLOCK ? BLOCK : 2 * BLOCK;
    tail.fill(0, n, end - 4);
    const bits = total * 8;
    tail[end - 4] = bits >>> 24;
    tail[end - 3] = bits >>> 16;
    tail[end - 2] = bits >>> 8;
    tail[end - 1] = bits;
    this.block(tail, 0);
    if (end > BLOCK) this.block(tail, BLOCK);
  }

  /** The SHA-1 compression function (FIPS 180-4 6.1.2) over b[off, off + 64). */
  private block(b: Buffer, off: number): void {
    const w = this.w;
    for (let i = 0; i < 16; i++, off += 4) w[i] = (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    const h = this.h;
    let a = h[0]!;
    let bb = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    let i = 0;
    for (; i < 20; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((bb & c) | (~bb & d)) + e + 0x5a827999 + w[i]!) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = t;
    }
    for (; i < 40; i++) {
      const t = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e + 0x6ed9eba1 + w[i]!) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = t;
    }
    for (; i < 60; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((bb & c) | (bb & d) | (c & d)) + e - 0x70e44324 + w[i]!) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = t;
    }
    for (; i < 80; i++) {
      const t = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e - 0x359d3e2a + w[i]!) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = t;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + bb) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
  }
}
