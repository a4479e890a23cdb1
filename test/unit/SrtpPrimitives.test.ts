import { createCipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AesCmKeystream, KEYSTREAM_SCRATCH, RTP_AHEAD } from '../../src/media/transforms/AesCmKeystream.js';
import { ecbCipher } from '../../src/media/transforms/AesF8.js';
import { HmacSha1 } from '../../src/media/transforms/HmacSha1.js';
import { rng } from '../helpers/health.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

function bytes(next: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

describe('HmacSha1', () => {
  it('RFC 2202 test cases 1, 2 and 6 (a key longer than a block)', () => {
    const cases: [Buffer, Buffer, string][] = [
      [Buffer.alloc(20, 0x0b), Buffer.from('Hi There'), 'b617318655057264e28bc0b6fb378c8ef146be00'],
      [Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79'],
      [Buffer.alloc(80, 0xaa), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'), 'aa4ae5e15272d00e95705637ce8a3b55ed402112'],
    ];
    for (const [key, data, mac] of cases) {
      const out = Buffer.alloc(20);
      new HmacSha1(key).sign(data, data.length, -1, out, 0, 20);
      expect(out.toString('hex')).toBe(mac);
    }
  });

  it('equals OpenSSL for every length around the block boundaries, with and without the ROC, and checks tags', () => {
    const next = rng(7);
    const key = bytes(next, 20);
    const mac = new HmacSha1(key);
    for (let len = 0; len < 300; len++) {
      const data = bytes(next, len + 10);
      const roc = len % 2 === 0 ? -1 : Math.floor(next() * 2 ** 32);
      const ref = createHmac('sha1', key).update(data.subarray(0, len));
      if (roc >= 0) ref.update(Buffer.from([roc >>> 24, (roc >>> 16) & 0xff, (roc >>> 8) & 0xff, roc & 0xff]));
      const want = ref.digest();
      mac.sign(data, len, roc, data, len, 10);
      expect(data.subarray(len, len + 10)).toEqual(want.subarray(0, 10));
      expect(mac.check(data, len, roc, data, len, 10)).toBe(true);
      data[len + 9]! ^= 1;
      expect(mac.check(data, len, roc, data, len, 10)).toBe(false);
    }
  });
});

describe('AesCmKeystream', () => {
  it('equals AES-128-CTR with the RFC 3711 counter for packets in order, late, far off and long', () => {
    const next = rng(11);
    const key = bytes(next, 16);
    const salt = bytes(next, 14);
    const ssrc = 0xdeadbeef;
    const ks = new AesCmKeystream(ecbCipher(key), salt, ssrc, Buffer.alloc(KEYSTREAM_SCRATCH), RTP_AHEAD);
    const indices = [5, 6, 7, 3, 8, 20, 21, 19, 2 ** 32 + 70000, 2 ** 32 + 69999, 40, 41, 2 ** 47 - 1];
    for (let i = 0; i < 200; i++) indices.push(100 + i + (i % 7 === 3 ? -5 : 0));
    for (const [n, index] of indices.entries()) {
      const len = [160, 20, 1, 300, 1400, 161, 0][n % 7]!;
      const data = bytes(next, len);
      const iv = Buffer.alloc(16);
      salt.copy(iv);
      iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
      iv.writeUInt16BE(iv.readUInt16BE(8) ^ Math.floor(index / 2 ** 32), 8);
      iv.writeUInt32BE((iv.readUInt32BE(10) ^ index) >>> 0, 10);
      const want = createCipheriv('aes-128-ctr', key, iv).update(data);
      ks.xor(data, 0, len, index);
      expect(data).toEqual(want);
    }
  });
});
