import { createCipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SrtpCipher } from '../../src/media/transforms/SrtpCipher.js';
import { rng } from '../helpers/health.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function bytes(next: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

/** An RTP header (12 bytes) with this sequence number and SSRC, then `payload`. */
function rtp(seq: number, ssrc: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

/** RFC 3711 4.1.1: the AES-CM IV of a packet. */
function ctrIv(salt: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(16);
  salt.copy(iv);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  iv.writeUInt16BE(iv.readUInt16BE(8) ^ Math.floor(index / 2 ** 32), 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ index) >>> 0, 10);
  return iv;
}

const roc32 = (roc: number): Buffer => Buffer.from([roc >>> 24, (roc >>> 16) & 0xff, (roc >>> 8) & 0xff, roc & 0xff]);

describe('SrtpCipher: RFC test vectors', () => {
  it('RFC 3711 B.2: the AES-CM keystream of SSRC 0, index 0', () => {
    const c = new SrtpCipher('ctr', hex('2B7E151628AED2A6ABF7158809CF4F3C'), hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'), Buffer.alloc(20), 10);
    const p = rtp(0, 0, Buffer.alloc(48));
    const out = Buffer.alloc(p.length + 10);
    expect(c.protectRtp(p, out, 12, p.length, 0)).toBe(true);
    expect(out.subarray(12, 60).toString('hex').toUpperCase()).toBe('E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0');
  });

  it('RFC 3711 B.1: AES-f8, the IV made of the RTP header and the ROC', () => {
    const c = new SrtpCipher('f8', hex('234829008467be186c3de14aae72d62c'), hex('32f2870d'), Buffer.alloc(20), 10);
    // IV = 00 | 6e5cba50681de55c621599 (header bytes 1-11) | d462564a (ROC).
    const p = Buffer.concat([hex('806e5cba50681de55c621599'), Buffer.from('pseudorandomness is the next best thing', 'latin1')]);
    const out = Buffer.alloc(p.length + 10);
    expect(c.protectRtp(p, out, 12, p.length, 0xd462564a)).toBe(true);
    expect(out.subarray(12, p.length).toString('hex')).toBe('019ce7a26e7854014a6366aa95d4eefd1ad4172a14f9faf455b7f1d4b62bd08f562c0eef7c4802');
  });

  it('RFC 2202 HMAC-SHA1 cases 2 and 6 (a key longer than a block), as SRTCP tags over packet | E,index', () => {
    const cases: [Buffer, string, string][] = [
      [Buffer.from('Jefe'), 'what do ya want for nothing?', 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79'],
      [Buffer.alloc(80, 0xaa), 'Test Using Larger Than Block-Size Key - Hash Key First', 'aa4ae5e15272d00e95705637ce8a3b55ed402112'],
    ];
    for (const [key, text, mac] of cases) {
      const data = Buffer.from(text, 'latin1');
      // The message's last four bytes are the E,index word (E clear: NULL suites do not encrypt).
      const c = new SrtpCipher('null', Buffer.alloc(16), Buffer.alloc(14), key, 20);
      const out = Buffer.alloc(data.length + 20);
      expect(c.protectRtcp(data, out, data.length - 4, data.readUInt32BE(data.length - 4))).toBe(true);
      expect(out.subarray(0, data.length)).toEqual(data);
      expect(out.subarray(data.length).toString('hex')).toBe(mac);
    }
  });
});

describe('SrtpCipher against OpenSSL through node:crypto', () => {
  it('HMAC-SHA1 tags for every length around the block boundaries, with the ROC; checks them', () => {
    const next = rng(7);
    const key = bytes(next, 20);
    const c = new SrtpCipher('null', Buffer.alloc(16), Buffer.alloc(14), key, 10);
    for (let len = 12; len < 300; len++) {
      const p = Buffer.concat([bytes(next, len), Buffer.alloc(10)]);
      const roc = Math.floor(next() * 2 ** 32);
      const want = createHmac('sha1', key).update(p.subarray(0, len)).update(roc32(roc)).digest();
      const plain = Buffer.from(p.subarray(0, len));
      expect(c.protectRtp(p, p, 12, len, roc)).toBe(true);
      expect(p.subarray(0, len)).toEqual(plain);
      expect(p.subarray(len)).toEqual(want.subarray(0, 10));
      expect(c.unprotectRtp(p, 12, len, roc, true)).toBe(true);
      expect(c.unprotectRtp(p, 12, len, roc ^ 1, true)).toBe(false);
      p[len + 9]! ^= 1;
      expect(c.unprotectRtp(p, 12, len, roc, true)).toBe(false);
    }
  });

  for (const keyLength of [16, 24, 32]) {
    it(`AES-${keyLength * 8}-CM equals AES-CTR with the RFC 3711 IV, packets of any length, any index; decrypts`, () => {
      const next = rng(11 + keyLength);
      const key = bytes(next, keyLength);
      const salt = bytes(next, 14);
      const auth = bytes(next, 20);
      const c = new SrtpCipher('ctr', key, salt, auth, 4);
      const indices = [5, 6, 3, 2 ** 32 + 70000, 2 ** 47 - 1, 2 ** 48 - 1, 65535];
      for (const [n, index] of indices.entries()) {
        const ssrc = Math.floor(next() * 2 ** 32);
        const len = [160, 20, 1, 300, 1400, 161, 0][n % 7]!;
        const payload = bytes(next, len);
        const p = Buffer.concat([rtp(index % 65536, ssrc, payload), Buffer.alloc(4)]);
        const roc = Math.floor(index / 65536);
        expect(c.protectRtp(p, p, 12, 12 + len, roc)).toBe(true);
        const want = createCipheriv(`aes-${keyLength * 8}-ctr`, key, ctrIv(salt, ssrc, index)).update(payload);
        expect(p.subarray(12, 12 + len)).toEqual(want);
        expect(c.unprotectRtp(p, 12, 12 + len, roc, true)).toBe(true);
        expect(p.subarray(12, 12 + len)).toEqual(payload);
      }
    });
  }

  it('SRTCP with AES-CM: packet | E,index | tag, the payload after the first 8 bytes encrypted with the index', () => {
    const next = rng(5);
    const [key, salt, auth] = [bytes(next, 16), bytes(next, 14), bytes(next, 20)];
    const c = new SrtpCipher('ctr', key, salt, auth, 10);
    const p = bytes(next, 60);
    const ssrc = p.readUInt32BE(4);
    const out = Buffer.alloc(74);
    expect(c.protectRtcp(p, out, 60, 0x80000000 + 77)).toBe(true);
    expect(out.subarray(0, 8)).toEqual(p.subarray(0, 8));
    expect(out.subarray(8, 60)).toEqual(createCipheriv('aes-128-ctr', key, ctrIv(salt, ssrc, 77)).update(p.subarray(8)));
    expect(out.readUInt32BE(60)).toBe(0x80000000 + 77);
    expect(out.subarray(64)).toEqual(createHmac('sha1', auth).update(out.subarray(0, 64)).digest().subarray(0, 10));
    expect(c.unprotectRtcp(out, 74, true)).toBe(true);
    expect(out.subarray(0, 60)).toEqual(p);
  });

  for (const keyLength of [16, 32]) {
    it(`AES-${keyLength * 8}-GCM (RFC 7714): RTP and RTCP equal OpenSSL's AEAD with the RFC's IV and AAD`, () => {
      const next = rng(3 + keyLength);
      const key = bytes(next, keyLength);
      const salt = bytes(next, 12);
      const c = new SrtpCipher('gcm', key, salt, null, 16);
      const name = keyLength === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
      const payload = bytes(next, 160);
      const roc = 0x01020304;
      const p = rtp(4321, 0xcafebabe, payload);
      const out = Buffer.alloc(p.length + 16);
      expect(c.protectRtp(p, out, 12, p.length, roc)).toBe(true);
      const iv = Buffer.from(hex('0000cafebabe01020304' + '10e1'));
      for (let i = 0; i < 12; i++) iv[i]! ^= salt[i]!;
      const g = createCipheriv(name, key, iv).setAAD(p.subarray(0, 12));
      expect(out.subarray(12)).toEqual(Buffer.concat([g.update(payload), g.final(), g.getAuthTag()]));
      expect(c.unprotectRtp(out, 12, p.length, roc, true)).toBe(true);
      expect(out.subarray(0, p.length)).toEqual(p);

      const r = bytes(next, 40);
      const srtcp = Buffer.alloc(40 + 20);
      expect(c.protectRtcp(r, srtcp, 40, 0x80000000 + 9)).toBe(true);
      const riv = Buffer.alloc(12);
      r.copy(riv, 2, 4, 8);
      riv.writeUInt32BE(9, 8);
      for (let i = 0; i < 12; i++) riv[i]! ^= salt[i]!;
      const rg = createCipheriv(name, key, riv).setAAD(Buffer.concat([r.subarray(0, 8), hex('80000009')]));
      expect(srtcp.subarray(8)).toEqual(Buffer.concat([rg.update(r.subarray(8)), rg.final(), rg.getAuthTag(), hex('80000009')]));
      expect(c.unprotectRtcp(srtcp, 60, true)).toBe(true);
      expect(srtcp.subarray(0, 40)).toEqual(r);
    });
  }

  it('a packet that fails leaves its buffer as it came, and one verified without decrypting stays encrypted', () => {
    const next = rng(9);
    for (const [mode, keyLength, saltLength, tag] of [['ctr', 16, 14, 10], ['f8', 16, 14, 10], ['gcm', 16, 12, 16]] as const) {
      const c = new SrtpCipher(mode, bytes(next, keyLength), bytes(next, saltLength), mode === 'gcm' ? null : bytes(next, 20), tag);
      const p = rtp(7, 1234, bytes(next, 100));
      const wire = Buffer.alloc(p.length + tag);
      c.protectRtp(p, wire, 12, p.length, 0);
      const bad = Buffer.from(wire);
      bad[30]! ^= 1;
      const copy = Buffer.from(bad);
      expect(c.unprotectRtp(bad, 12, p.length, 0, true)).toBe(false);
      expect(bad).toEqual(copy);
      const good = Buffer.from(wire);
      expect(c.unprotectRtp(good, 12, p.length, 0, false)).toBe(true);
      expect(good).toEqual(wire);
      expect(c.unprotectRtp(good, 12, p.length, 0, true)).toBe(true);
      expect(good.subarray(0, p.length)).toEqual(p);
    }
  });

  it('refuses a destination without room, a short packet and bad key lengths', () => {
    const c = new SrtpCipher('ctr', Buffer.alloc(16), Buffer.alloc(14), Buffer.alloc(20), 10);
    const p = rtp(1, 1, Buffer.alloc(20));
    expect(c.protectRtp(p, Buffer.alloc(p.length + 9), 12, p.length, 0)).toBe(false);
    expect(c.unprotectRtp(p, 12, p.length - 9, 0, true)).toBe(false);
    expect(c.unprotectRtcp(Buffer.alloc(21), 21, true)).toBe(false);
    expect(() => new SrtpCipher('ctr', Buffer.alloc(15), Buffer.alloc(14), Buffer.alloc(20), 10)).toThrow(RangeError);
    expect(() => new SrtpCipher('gcm', Buffer.alloc(16), Buffer.alloc(14), null, 16)).toThrow(RangeError);
  });
});
