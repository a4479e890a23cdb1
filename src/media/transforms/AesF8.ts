import { createCipheriv, type Cipher } from 'node:crypto';

/** AES in ECB mode without padding: one block at a time is all f8 needs. */
export function ecbCipher(key: Buffer): Cipher {
  const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  c.setAutoPadding(false);
  return c;
}

/**
 * The ECB cipher under k_e XOR m, m = k_s || 0x55..55 (RFC 3711 4.1.2.1): it turns an IV into
 * IV'. Made once per session.
 */
export function f8MaskCipher(sessionKey: Buffer, sessionSalt: Buffer): Cipher {
  const m = Buffer.alloc(sessionKey.length, 0x55);
  sessionSalt.copy(m, 0, 0, Math.min(sessionSalt.length, m.length));
  for (let i = 0; i < m.length; i++) m[i]! ^= sessionKey[i]!;
  return ecbCipher(m);
}

/**
 * XORs the AES-f8 keystream (RFC 3711 4.1.2) for `iv` into p[from, to): IV' = E(k_e XOR m, IV),
 * S(j) = E(k_e, IV' XOR j XOR S(j-1)), S(-1) = 0.
 */
export function f8Xor(ecb: Cipher, mask: Cipher, iv: Buffer, p: Buffer, from: number, to: number): void {
  const ivp = mask.update(iv);
  let s: Buffer = Buffer.alloc(16);
  const block = Buffer.alloc(16);
  for (let j = 0, off = from; off < to; j++, off += 16) {
    for (let i = 0; i < 16; i++) block[i] = ivp[i]! ^ s[i]!;
    // The block counter j as a 128-bit number: only its low 32 bits are ever non-zero here.
    block.writeUInt32BE((block.readUInt32BE(12) ^ j) >>> 0, 12);
    s = ecb.update(block);
    const n = Math.min(16, to - off);
    for (let i = 0; i < n; i++) p[off + i]! ^= s[i]!;
  }
}
