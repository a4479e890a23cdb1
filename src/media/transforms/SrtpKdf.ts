import { createCipheriv } from 'node:crypto';

/** Key derivation labels (RFC 3711 4.3.2). */
export const LABEL_RTP_ENCRYPTION = 0;
export const LABEL_RTP_AUTH = 1;
export const LABEL_RTP_SALT = 2;
export const LABEL_RTCP_ENCRYPTION = 3;
export const LABEL_RTCP_AUTH = 4;
export const LABEL_RTCP_SALT = 5;

/**
 * The AES-CM PRF of RFC 3711 4.3.3 with a key derivation rate of 0: `length` bytes of
 * keystream under the master key, IV = (master salt XOR label << 48) * 2^16. GCM suites
 * (RFC 7714 11) use the same function with their 12-byte salt, left-aligned.
 */
export function deriveKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, Math.min(14, masterSalt.length));
  iv[7]! ^= label;
  const cipher = createCipheriv(`aes-${masterKey.length * 8}-ctr`, masterKey, iv);
  return cipher.update(Buffer.alloc(length));
}
