import { describe, expect, it } from 'vitest';
import { RtpPacket, SrtcpSession as WeriftSrtcp, SrtpSession as WeriftSrtp } from 'werift-rtp';
import { ReplayWindow } from '../../src/media/transforms/ReplayWindow.js';
import { deriveKey } from '../../src/media/transforms/SrtpKdf.js';
import { SrtpSession } from '../../src/media/transforms/SrtpSession.js';
import { srtpSuite, type SrtpSuite } from '../../src/media/transforms/SrtpSuite.js';
import { MAX_SSRCS, SSRC_IDLE_MS } from '../../src/media/transforms/SsrcTable.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const suite = (name: string): SrtpSuite => srtpSuite(name)!;

function rtp(seq: number, ssrc = 0xcafebabe, payload = Buffer.alloc(160, 0xab)): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 0;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(seq * 160, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

function rtcpSr(ssrc = 0xcafebabe): Buffer {
  const p = Buffer.alloc(28);
  p[0] = 0x80;
  p[1] = 200;
  p.writeUInt16BE(6, 2);
  p.writeUInt32BE(ssrc, 4);
  p.fill(0x11, 8);
  return p;
}

describe('RFC 3711 test vectors', () => {
  it('B.2: AES-CM keystream', () => {
    const ks = deriveKey(hex('2B7E151628AED2A6ABF7158809CF4F3C'), hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'), 0, 48);
    expect(ks.toString('hex').toUpperCase()).toBe('E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0');
  });

  it('B.3: key derivation', () => {
    const key = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
    const salt = hex('0EC675AD498AFEEBB6960B3AABE6');
    expect(deriveKey(key, salt, 0, 16).toString('hex').toUpperCase()).toBe('C61E7A93744F39EE10734AFE3FF7A087');
    expect(deriveKey(key, salt, 2, 14).toString('hex').toUpperCase()).toBe('30CBBC08863D8C85D49DB34A9AE1');
    expect(deriveKey(key, salt, 1, 20).toString('hex').toUpperCase()).toBe('CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  });

  it('libsrtp reference packet: AES_CM_128_HMAC_SHA1_80', () => {
    const s = new SrtpSession(suite('AES_CM_128_HMAC_SHA1_80'), hex('e1f97a0d3e018be0d64fa32c06de4139'), hex('0ec675ad498afeebb6960b3aabe6'));
    const plain = hex('800f1234decafbadcafebabe' + 'ab'.repeat(16));
    const out = s.protectRtp(plain)!;
    expect(out.toString('hex')).toBe('800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb');
    const r = new SrtpSession(suite('AES_CM_128_HMAC_SHA1_80'), hex('e1f97a0d3e018be0d64fa32c06de4139'), hex('0ec675ad498afeebb6960b3aabe6'));
    expect(r.unprotectRtp(out)!.toString('hex')).toBe(plain.toString('hex'));
  });
});

const KEY16 = hex('000102030405060708090a0b0c0d0e0f');
const KEY32 = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const SALT14 = hex('a0a1a2a3a4a5a6a7a8a9aaabacad');
const SALT12 = hex('a0a1a2a3a4a5a6a7a8a9aaab');

describe('SrtpSession against werift-rtp (an independent implementation)', () => {
  const profiles: [string, number, Buffer][] = [
    ['AES_CM_128_HMAC_SHA1_80', 1, SALT14],
    ['AEAD_AES_128_GCM', 7, SALT12],
  ];
  for (const [name, profile, salt] of profiles) {
    it(`${name}: RTP and RTCP both ways`, () => {
      const keys = { localMasterKey: KEY16, localMasterSalt: salt, remoteMasterKey: KEY16, remoteMasterSalt: salt };
      const theirs = new WeriftSrtp({ keys, profile });
      const theirsRtcp = new WeriftSrtcp({ keys, profile });
      const ours = new SrtpSession(suite(name), KEY16, salt);
      const oursIn = new SrtpSession(suite(name), KEY16, salt);
      for (let seq = 100; seq < 110; seq++) {
        const plain = rtp(seq);
        const enc = ours.protectRtp(Buffer.from(plain))!;
        expect(theirs.decrypt(enc).toString('hex')).toBe(plain.toString('hex'));
        const pkt = RtpPacket.deSerialize(plain);
        const theirEnc = theirs.encrypt(pkt.payload, pkt.header);
        expect(oursIn.unprotectRtp(Buffer.from(theirEnc))!.toString('hex')).toBe(plain.toString('hex'));
      }
      const sr = rtcpSr();
      expect(theirsRtcp.decrypt(ours.protectRtcp(Buffer.from(sr))!).toString('hex')).toBe(sr.toString('hex'));
      expect(oursIn.unprotectRtcp(Buffer.from(theirsRtcp.encrypt(Buffer.from(sr))))!.toString('hex')).toBe(sr.toString('hex'));
    });
  }
});

describe('SrtpSession', () => {
  const all: [string, Buffer, Buffer][] = [
    ['AES_CM_128_HMAC_SHA1_80', KEY16, SALT14],
    ['AES_CM_128_HMAC_SHA1_32', KEY16, SALT14],
    ['AES_192_CM_HMAC_SHA1_80', KEY32.subarray(0, 24), SALT14],
    ['AES_256_CM_HMAC_SHA1_80', KEY32, SALT14],
    ['AES_256_CM_HMAC_SHA1_32', KEY32, SALT14],
    ['AEAD_AES_128_GCM', KEY16, SALT12],
    ['AEAD_AES_256_GCM', KEY32, SALT12],
    ['NULL_HMAC_SHA1_80', KEY16, SALT14],
    ['F8_128_HMAC_SHA1_80', KEY16, SALT14],
    ['F8_128_HMAC_SHA1_32', KEY16, SALT14],
  ];
  for (const [name, key, salt] of all) {
    it(`${name}: round trip across a sequence number rollover, RTCP too`, () => {
      const tx = new SrtpSession(suite(name), key, salt);
      const rx = new SrtpSession(suite(name), key, salt);
      for (let i = 0; i < 20; i++) {
        const plain = rtp((65530 + i) & 0xffff);
        const enc = tx.protectRtp(Buffer.from(plain))!;
        expect(enc.length).toBe(plain.length + suite(name).rtpTag);
        if (name.startsWith('NULL')) expect(enc.subarray(12, plain.length)).toEqual(plain.subarray(12));
        else expect(enc.subarray(12, plain.length)).not.toEqual(plain.subarray(12));
        expect(rx.unprotectRtp(enc)?.toString('hex')).toBe(plain.toString('hex'));
      }
      const sr = rtcpSr();
      expect(rx.unprotectRtcp(tx.protectRtcp(Buffer.from(sr))!)?.toString('hex')).toBe(sr.toString('hex'));
      expect(rx.errors).toEqual({ auth: 0, replay: 0, malformed: 0, full: 0 });
    });
  }

  it('refuses replays, tampering and short packets, and counts them', () => {
    const tx = new SrtpSession(suite('AES_CM_128_HMAC_SHA1_80'), KEY16, SALT14);
    const rx = new SrtpSession(suite('AES_CM_128_HMAC_SHA1_80'), KEY16, SALT14);
    const a = tx.protectRtp(rtp(1))!;
    const b = tx.protectRtp(rtp(2))!;
    expect(rx.unprotectRtp(Buffer.from(b))).not.toBeNull();
    expect(rx.unprotectRtp(Buffer.from(a))).not.toBeNull(); // late but in the window
    expect(rx.unprotectRtp(Buffer.from(a))).toBeNull();
    const c = tx.protectRtp(rtp(3))!;
    c[20]! ^= 1;
    expect(rx.unprotectRtp(c)).toBeNull();
    expect(rx.unprotectRtp(Buffer.alloc(8))).toBeNull();
    const r = tx.protectRtcp(rtcpSr())!;
    expect(rx.unprotectRtcp(Buffer.from(r))).not.toBeNull();
    expect(rx.unprotectRtcp(Buffer.from(r))).toBeNull();
    expect(rx.errors).toEqual({ auth: 1, replay: 2, malformed: 1, full: 0 });
  });

  it('a different key fails authentication', () => {
    const tx = new SrtpSession(suite('AEAD_AES_128_GCM'), KEY16, SALT12);
    const rx = new SrtpSession(suite('AEAD_AES_128_GCM'), KEY32.subarray(16), SALT12);
    expect(rx.unprotectRtp(tx.protectRtp(rtp(5))!)).toBeNull();
    expect(rx.errors.auth).toBe(1);
  });
});

describe('SrtpSession per-SSRC state', () => {
  const name = 'AES_CM_128_HMAC_SHA1_80';
  const forged = (ssrc: number, seq: number): Buffer => Buffer.concat([rtp(seq, ssrc), Buffer.alloc(10, 0x5a)]);

  it('creates no state for packets that fail authentication: a stream at ROC 1 survives a flood of forged SSRCs', () => {
    const tx = new SrtpSession(suite(name), KEY16, SALT14);
    const rx = new SrtpSession(suite(name), KEY16, SALT14);
    for (let seq = 65530; seq < 65546; seq++) expect(rx.unprotectRtp(tx.protectRtp(rtp(seq & 0xffff), 1000)!, 1000)).not.toBeNull();
    for (let i = 0; i < MAX_SSRCS * 4; i++) expect(rx.unprotectRtp(forged(0x10000 + i, i), 1001)).toBeNull();
    expect(rx.errors.auth).toBe(MAX_SSRCS * 4);
    for (let seq = 10; seq < 20; seq++) expect(rx.unprotectRtp(tx.protectRtp(rtp(seq), 1002)!, 1002)?.toString('hex')).toBe(rtp(seq).toString('hex'));
  });

  it('a full table gives a slot only to a new SSRC once a stream idled, never a live one', () => {
    // One sender per SSRC (a sender's own table is as bounded as the receiver's).
    const tx = new Map<number, SrtpSession>();
    const rx = new SrtpSession(suite(name), KEY16, SALT14);
    const sender = (ssrc: number): SrtpSession => tx.get(ssrc) ?? tx.set(ssrc, new SrtpSession(suite(name), KEY16, SALT14)).get(ssrc)!;
    const pass = (ssrc: number, seq: number, now: number): boolean => rx.unprotectRtp(sender(ssrc).protectRtp(rtp(seq, ssrc), now)!, now) !== null;
    // The first stream wraps into ROC 1, then MAX_SSRCS - 1 others fill the table.
    for (let seq = 65530; seq < 65546; seq++) expect(pass(1, seq & 0xffff, 0)).toBe(true);
    for (let i = 2; i <= MAX_SSRCS; i++) expect(pass(i, 1, 0)).toBe(true);
    // Authentic but no room: every stream is live.
    expect(pass(1000, 1, 1000)).toBe(false);
    expect(rx.errors.full).toBe(1);
    // Stream 1 keeps going; the others idle; a new SSRC then takes an idle slot and stream 1 keeps its ROC.
    expect(pass(1, 20, SSRC_IDLE_MS)).toBe(true);
    expect(pass(1001, 1, SSRC_IDLE_MS + 1)).toBe(true);
    expect(pass(1, 21, SSRC_IDLE_MS + 2)).toBe(true);
  });

  it('SRTCP state too is made only for an authenticated packet', () => {
    const tx = new SrtpSession(suite(name), KEY16, SALT14);
    const rx = new SrtpSession(suite(name), KEY16, SALT14);
    const fake = Buffer.concat([rtcpSr(0x777), Buffer.from([0x80, 0, 0, 1]), Buffer.alloc(10)]);
    for (let i = 0; i < MAX_SSRCS + 1; i++) {
      fake.writeUInt32BE(0x1000 + i, 4);
      expect(rx.unprotectRtcp(Buffer.from(fake), 0)).toBeNull();
    }
    expect(rx.unprotectRtcp(tx.protectRtcp(rtcpSr(), 0)!, 0)?.toString('hex')).toBe(rtcpSr().toString('hex'));
    expect(rx.errors).toEqual({ auth: MAX_SSRCS + 1, replay: 0, malformed: 0, full: 0 });
  });
});

describe('SrtpSession indices (what a record carries)', () => {
  const name = 'AES_CM_128_HMAC_SHA1_80';
  it('a session seeded with indices continues at their ROC, both ways, and tells of ROC changes', () => {
    const tx = new SrtpSession(suite(name), KEY16, SALT14, true);
    const rx = new SrtpSession(suite(name), KEY16, SALT14);
    let told = 0;
    rx.onIndex = () => told++;
    for (const seq of [65530, 65535, 0, 5, 16383, 16384, 16390]) expect(rx.unprotectRtp(tx.protectRtp(rtp(seq), 0)!, 0)).not.toBeNull();
    // New SSRC, ROC 1 (and the quarter it started in), the second quarter: three reports for seven packets.
    expect(told).toBe(3);
    expect(rx.indices()).toEqual([{ ssrc: 0xcafebabe, roc: 1, seq: 16390, rtcp: -1 }]);
    expect(tx.protectRtcp(rtcpSr(), 0)).not.toBeNull();
    expect(tx.indices()).toEqual([{ ssrc: 0xcafebabe, roc: 1, seq: 16390, rtcp: 1 }]);
    // A restarted relay: fresh sessions seeded from the record.
    const tx2 = new SrtpSession(suite(name), KEY16, SALT14, true);
    const rx2 = new SrtpSession(suite(name), KEY16, SALT14);
    tx2.seed(tx.indices(), 0);
    rx2.seed(rx.indices(), 0);
    for (const seq of [16391, 30000]) expect(rx2.unprotectRtp(tx.protectRtp(rtp(seq), 0)!, 0)?.toString('hex')).toBe(rtp(seq).toString('hex'));
    for (const seq of [30001, 30002]) expect(rx.unprotectRtp(tx2.protectRtp(rtp(seq), 0)!, 0)?.toString('hex')).toBe(rtp(seq).toString('hex'));
    // Its SRTCP index moves past what the old one may have sent since the record.
    expect(rx.unprotectRtcp(tx2.protectRtcp(rtcpSr(), 0)!, 0)).not.toBeNull();
    expect(tx2.indices()[0]!.rtcp).toBeGreaterThan(1000);
    // An SSRC that already sent keeps its own state over a record's.
    rx2.seed([{ ssrc: 0xcafebabe, roc: 7, seq: 1, rtcp: -1 }], 0);
    expect(rx2.indices()[0]!.roc).toBe(1);
  });
});

describe('ReplayWindow', () => {
  it('accepts new indices, refuses seen and too-old ones', () => {
    const w = new ReplayWindow();
    expect(w.check(1000)).toBe(true);
    w.accept(1000);
    expect(w.check(1000)).toBe(false);
    expect(w.check(999)).toBe(true);
    expect(w.check(1000 - 128)).toBe(false);
    w.accept(1005);
    expect(w.check(1003)).toBe(true);
    w.accept(1003);
    expect(w.check(1003)).toBe(false);
    w.accept(1000 + 500);
    expect(w.check(1005)).toBe(false);
    expect(w.check(1499)).toBe(true);
    w.accept(2 ** 40);
    expect(w.check(2 ** 40)).toBe(false);
    expect(w.check(2 ** 40 - 1)).toBe(true);
  });
});
