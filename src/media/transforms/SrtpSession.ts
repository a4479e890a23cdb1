import { createCipheriv, createDecipheriv } from 'node:crypto';
import { AesCmKeystream, KEYSTREAM_SCRATCH, RTP_AHEAD } from './AesCmKeystream.js';
import { f8Xor } from './AesF8.js';
import { rtpHeaderLength } from './RtpHeader.js';
import { SessionKeys } from './SrtpKeys.js';
import type { SrtpIndex } from '../MediaPlane.js';
import type { SrtpSuite } from './SrtpSuite.js';
import { SsrcTable, type SsrcState } from './SsrcTable.js';

const RTCP_HEADER = 8;
const SRTCP_INDEX = 4;
const E_FLAG = 0x80000000;
/** SRTCP indices a restored sender skips: more than it sends between two records (one per RTCP interval). */
const SRTCP_RESTORE_SKIP = 4096;

/** Why packets were dropped, per direction (rtpengine counts these per stream). */
export interface SrtpErrors {
  auth: number;
  replay: number;
  malformed: number;
  /** A new SSRC while every slot of the table held a live stream. */
  full: number;
}

/**
 * One direction of SRTP and SRTCP under one master key: protect (encrypt and authenticate)
 * or unprotect (verify, check replay, decrypt). Session keys and AES key schedules are made
 * once; per packet it allocates the output (or, unprotecting, nothing but the keystream).
 */
export class SrtpSession {
  private readonly rtp: SessionKeys;
  private readonly rtcp: SessionKeys;
  private readonly ssrcs = new SsrcTable();
  /** Counter blocks before their cipher call, shared by the streams. */
  private readonly blocks = Buffer.alloc(KEYSTREAM_SCRATCH);
  /** GCM's IV, made per packet here (a cipher copies it when it is created). */
  private readonly iv = Buffer.alloc(12);
  readonly errors: SrtpErrors = { auth: 0, replay: 0, malformed: 0, full: 0 };
  /** Called (rarely, never per packet) when an SSRC's index moved on far enough to be recorded; see `advance`. */
  onIndex: (() => void) | null = null;

  constructor(
    readonly suite: SrtpSuite,
    masterKey: Buffer,
    masterSalt: Buffer,
    /** What `indices` reports as `rtcp` and `seed` restores: our SRTCP index (protecting) or the peer's (unprotecting). */
    readonly protects = false,
  ) {
    if (masterKey.length !== suite.keyLength || masterSalt.length !== suite.saltLength) throw new RangeError(`bad key length for ${suite.name}`);
    this.rtp = new SessionKeys(suite, masterKey, masterSalt, false);
    this.rtcp = new SessionKeys(suite, masterKey, masterSalt, true);
  }

  /** The state of an SSRC whose packet is being protected (ours to send: accepted as it comes). */
  private sending(ssrc: number, now: number): SsrcState | null {
    const s = this.ssrcs.get(ssrc) ?? this.ssrcs.add(ssrc, now);
    if (s === null) this.errors.full++;
    else s.lastSeen = now;
    return s;
  }

  /** Room for a new SSRC's state, checked after its first packet authenticated and before it is decrypted in place. */
  private room(now: number): boolean {
    if (this.ssrcs.hasRoom(now)) return true;
    this.errors.full++;
    return false;
  }

  /** RFC 3711 appendix A: the ROC a sequence number most likely belongs to. */
  private static guessRoc(s: SsrcState, seq: number): number {
    if (s.seq < 0) return s.roc;
    if (s.seq < 32768) return seq - s.seq > 32768 ? s.roc - 1 : s.roc;
    return s.seq - 32768 > seq ? s.roc + 1 : s.roc;
  }

  private advance(s: SsrcState, roc: number, seq: number): void {
    const quarter = s.roc * 4 + (s.seq >>> 14);
    s.seeded = false;
    if (s.seq < 0 || roc > s.roc) {
      s.roc = roc;
      s.seq = seq;
    } else if (roc === s.roc && seq > s.seq) s.seq = seq;
    // Told at most four times per ROC: a record that far behind still guesses the right ROC (RFC 3711 3.3.1).
    if (s.roc * 4 + (s.seq >>> 14) !== quarter) this.onIndex?.();
  }

  /** Where each SSRC stands, for the record. */
  indices(): SrtpIndex[] {
    const out: SrtpIndex[] = [];
    for (const [ssrc, s] of this.ssrcs.entries()) {
      if (s.seq >= 0) out.push({ ssrc, roc: s.roc, seq: s.seq, rtcp: this.protects ? s.rtcpIndex : s.rtcpReplay.highest });
    }
    return out;
  }

  /**
   * Continues SSRCs from a record, unless they already sent here. A sender's SRTCP index
   * moves past what it may have sent since the record was written (a receiver refuses repeats).
   */
  seed(list: readonly SrtpIndex[], now: number): void {
    for (const r of list) {
      const known = this.ssrcs.get(r.ssrc);
      if (known && !known.seeded) continue;
      const s = known ?? this.ssrcs.add(r.ssrc, now);
      if (s === null) return;
      s.seeded = true;
      s.roc = r.roc;
      s.seq = r.seq;
      if (this.protects) s.rtcpIndex = (r.rtcp + SRTCP_RESTORE_SKIP) & 0x7fffffff;
    }
  }

  /** Encrypts an RTP packet and appends its tag; null when it is not RTP. */
  protectRtp(p: Buffer, now = Date.now()): Buffer | null {
    const h = rtpHeaderLength(p);
    if (h < 0) return null;
    const ssrc = p.readUInt32BE(8);
    const seq = p.readUInt16BE(2);
    const s = this.sending(ssrc, now);
    if (s === null) return null;
    const roc = Math.max(0, SrtpSession.guessRoc(s, seq));
    this.advance(s, roc, seq);
    const suite = this.suite;
    const out = Buffer.allocUnsafe(p.length + suite.rtpTag);
    p.copy(out, 0, 0, h);
    if (suite.mode === 'gcm') {
      const c = createCipheriv(this.gcmName(), this.rtp.gcmKey!, this.gcmIv(this.rtp.salt, ssrc, roc, seq));
      c.setAAD(p.subarray(0, h));
      const n = c.update(p.subarray(h)).copy(out, h);
      c.final();
      c.getAuthTag().copy(out, h + n);
      return out;
    }
    p.copy(out, h, h);
    if (suite.mode === 'ctr') this.rtpKeystream(s, ssrc).xor(out, h, p.length, roc * 65536 + seq);
    else if (suite.mode === 'f8') this.f8Rtp(out, h, p.length, roc);
    this.tag(this.rtp, out, p.length, roc, suite.rtpTag);
    return out;
  }

  /**
   * Verifies and decrypts an SRTP packet (in place); null when it fails (counted). An unknown
   * SSRC is checked against a fresh state (ROC 0) and gets one only once it authenticated.
   */
  unprotectRtp(p: Buffer, now = Date.now()): Buffer | null {
    const suite = this.suite;
    const h = rtpHeaderLength(p);
    if (h < 0 || p.length < h + suite.rtpTag) {
      this.errors.malformed++;
      return null;
    }
    const ssrc = p.readUInt32BE(8);
    const seq = p.readUInt16BE(2);
    const known = this.ssrcs.get(ssrc);
    const roc = known ? SrtpSession.guessRoc(known, seq) : 0;
    if (roc < 0) {
      this.errors.replay++;
      return null;
    }
    const index = roc * 65536 + seq;
    if (known && known.seq >= 0 && !known.replay.check(index)) {
      this.errors.replay++;
      return null;
    }
    const end = p.length - suite.rtpTag;
    if (suite.mode === 'gcm') {
      const d = createDecipheriv(this.gcmName(), this.rtp.gcmKey!, this.gcmIv(this.rtp.salt, ssrc, roc, seq));
      d.setAAD(p.subarray(0, h));
      d.setAuthTag(p.subarray(end));
      const plain = d.update(p.subarray(h, end));
      try {
        d.final();
      } catch {
        this.errors.auth++;
        return null;
      }
      if (!known && !this.room(now)) return null;
      plain.copy(p, h);
    } else {
      if (!this.verify(this.rtp, p, end, roc, suite.rtpTag)) {
        this.errors.auth++;
        return null;
      }
      if (!known && !this.room(now)) return null;
    }
    const s = this.accepted(known, ssrc, now);
    if (suite.mode === 'ctr') this.rtpKeystream(s, ssrc).xor(p, h, end, index);
    else if (suite.mode === 'f8') this.f8Rtp(p, h, end, roc);
    this.advance(s, roc, seq);
    s.replay.accept(index);
    return p.subarray(0, end);
  }

  /** Encrypts an RTCP compound packet, appends E|index and the tag; null when it is not RTCP. */
  protectRtcp(p: Buffer, now = Date.now()): Buffer | null {
    if (p.length < RTCP_HEADER) return null;
    const suite = this.suite;
    const ssrc = p.readUInt32BE(4);
    const s = this.sending(ssrc, now);
    if (s === null) return null;
    const index = s.rtcpIndex;
    s.rtcpIndex = (s.rtcpIndex + 1) & 0x7fffffff;
    const encrypted = suite.mode !== 'null';
    const word = (encrypted ? E_FLAG : 0) + index;
    if (suite.mode === 'gcm') {
      const out = Buffer.allocUnsafe(p.length + suite.rtcpTag + SRTCP_INDEX);
      p.copy(out, 0, 0, RTCP_HEADER);
      out.writeUInt32BE(word, out.length - SRTCP_INDEX);
      const c = createCipheriv(this.gcmName(), this.rtcp.gcmKey!, this.gcmIv(this.rtcp.salt, ssrc, 0, index, true));
      c.setAAD(Buffer.concat([p.subarray(0, RTCP_HEADER), out.subarray(out.length - SRTCP_INDEX)]));
      const n = c.update(p.subarray(RTCP_HEADER)).copy(out, RTCP_HEADER);
      c.final();
      c.getAuthTag().copy(out, RTCP_HEADER + n);
      return out;
    }
    const out = Buffer.allocUnsafe(p.length + SRTCP_INDEX + suite.rtcpTag);
    p.copy(out);
    out.writeUInt32BE(word, p.length);
    if (suite.mode === 'ctr') this.rtcpKeystream(s, ssrc).xor(out, RTCP_HEADER, p.length, index);
    else if (suite.mode === 'f8') this.f8Rtcp(out, p.length, word);
    this.tag(this.rtcp, out, p.length + SRTCP_INDEX, -1, suite.rtcpTag);
    return out;
  }

  /** Verifies and decrypts an SRTCP packet (in place); null when it fails (counted). State as for SRTP. */
  unprotectRtcp(p: Buffer, now = Date.now()): Buffer | null {
    const suite = this.suite;
    if (p.length < RTCP_HEADER + SRTCP_INDEX + suite.rtcpTag) {
      this.errors.malformed++;
      return null;
    }
    const ssrc = p.readUInt32BE(4);
    const known = this.ssrcs.get(ssrc);
    if (suite.mode === 'gcm') {
      const wordAt = p.length - SRTCP_INDEX;
      const word = p.readUInt32BE(wordAt);
      const index = word & 0x7fffffff;
      if (known && !known.rtcpReplay.check(index)) {
        this.errors.replay++;
        return null;
      }
      const tagAt = wordAt - suite.rtcpTag;
      const d = createDecipheriv(this.gcmName(), this.rtcp.gcmKey!, this.gcmIv(this.rtcp.salt, ssrc, 0, index, true));
      d.setAAD(Buffer.concat([p.subarray(0, RTCP_HEADER), p.subarray(wordAt)]));
      d.setAuthTag(p.subarray(tagAt, wordAt));
      const plain = d.update(p.subarray(RTCP_HEADER, tagAt));
      try {
        d.final();
      } catch {
        this.errors.auth++;
        return null;
      }
      if (!known && !this.room(now)) return null;
      plain.copy(p, RTCP_HEADER);
      this.accepted(known, ssrc, now).rtcpReplay.accept(index);
      return p.subarray(0, tagAt);
    }
    const tagAt = p.length - suite.rtcpTag;
    if (!this.verify(this.rtcp, p, tagAt, -1, suite.rtcpTag)) {
      this.errors.auth++;
      return null;
    }
    const word = p.readUInt32BE(tagAt - SRTCP_INDEX);
    const index = word & 0x7fffffff;
    if (known && !known.rtcpReplay.check(index)) {
      this.errors.replay++;
      return null;
    }
    if (!known && !this.room(now)) return null;
    const end = tagAt - SRTCP_INDEX;
    const s = this.accepted(known, ssrc, now);
    if ((word & E_FLAG) !== 0 && suite.mode === 'ctr') this.rtcpKeystream(s, ssrc).xor(p, RTCP_HEADER, end, index);
    else if ((word & E_FLAG) !== 0 && suite.mode === 'f8') this.f8Rtcp(p, end, word);
    s.rtcpReplay.accept(index);
    return p.subarray(0, end);
  }

  /** The state of an SSRC whose packet just authenticated (added now if new: `room` made sure it fits). */
  private accepted(known: SsrcState | undefined, ssrc: number, now: number): SsrcState {
    const s = known ?? this.ssrcs.add(ssrc, now)!;
    s.lastSeen = now;
    return s;
  }

  /** AES-f8 over an RTP payload: IV = 0x00 | M,PT | SEQ | TS | SSRC | ROC (RFC 3711 4.1.2.2). */
  private f8Rtp(p: Buffer, from: number, to: number, roc: number): void {
    const iv = Buffer.alloc(16);
    p.copy(iv, 1, 1, 12);
    iv.writeUInt32BE(roc >>> 0, 12);
    f8Xor(this.rtp.ecb!, this.rtp.f8Mask!, iv, p, from, to);
  }

  /** AES-f8 over an RTCP compound: IV = 0 (32 bits) | E,index | V,P,RC,PT,length,SSRC (RFC 3711 4.1.2.3). */
  private f8Rtcp(p: Buffer, to: number, word: number): void {
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(word >>> 0, 4);
    p.copy(iv, 8, 0, RTCP_HEADER);
    f8Xor(this.rtcp.ecb!, this.rtcp.f8Mask!, iv, p, RTCP_HEADER, to);
  }

  private gcmName(): 'aes-128-gcm' | 'aes-256-gcm' {
    return this.suite.keyLength === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
  }

  /** RFC 7714 8.1 / 9.1: 00 00 | SSRC | ROC | SEQ (SRTCP: 00 00 | SSRC | 00 00 | index), XOR salt. */
  private gcmIv(salt: Buffer, ssrc: number, roc: number, seq: number, rtcp = false): Buffer {
    const iv = this.iv;
    iv.fill(0);
    iv.writeUInt32BE(ssrc, 2);
    if (rtcp) iv.writeUInt32BE(seq, 8);
    else {
      iv.writeUInt32BE(roc >>> 0, 6);
      iv.writeUInt16BE(seq, 10);
    }
    for (let i = 0; i < 12; i++) iv[i]! ^= salt[i]!;
    return iv;
  }

  private rtpKeystream(s: SsrcState, ssrc: number): AesCmKeystream {
    return (s.rtpKeystream ??= new AesCmKeystream(this.rtp.ecb!, this.rtp.salt, ssrc, this.blocks, RTP_AHEAD));
  }

  private rtcpKeystream(s: SsrcState, ssrc: number): AesCmKeystream {
    return (s.rtcpKeystream ??= new AesCmKeystream(this.rtcp.ecb!, this.rtcp.salt, ssrc, this.blocks, 1));
  }

  /** Writes HMAC-SHA1(p[0, len) | ROC) truncated to `length` at p[len]. ROC < 0: none (SRTCP). */
  private tag(keys: SessionKeys, p: Buffer, len: number, roc: number, length: number): void {
    keys.mac!.sign(p, len, roc, p, len, length);
  }

  private verify(keys: SessionKeys, p: Buffer, len: number, roc: number, length: number): boolean {
    return keys.mac!.check(p, len, roc, p, len, length);
  }
}
