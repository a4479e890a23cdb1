import { describe, expect, it } from 'vitest';
import { ecbCipher, f8MaskCipher, f8Xor } from '../../src/media/transforms/AesF8.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('AES-f8 (RFC 3711 B.1)', () => {
  it('encrypts the test vector', () => {
    const key = hex('234829008467be186c3de14aae72d62c');
    const salt = hex('32f2870d');
    const iv = hex('006e5cba50681de55c621599d462564a');
    const p = Buffer.from('pseudorandomness is the next best thing', 'latin1');
    f8Xor(ecbCipher(key), f8MaskCipher(key, salt), iv, p, 0, p.length);
    expect(p.toString('hex')).toBe('019ce7a26e7854014a6366aa95d4eefd1ad4172a14f9faf455b7f1d4b62bd08f562c0eef7c4802');
  });
});
