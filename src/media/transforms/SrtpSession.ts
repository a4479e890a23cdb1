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
 * or unprotect (verify, check replay, decrypt). Session keys, AES contexts and HMAC states are
 * made once (SrtpCipher); a packet costs one native call for its crypto, and protecting
 * allocates the output (the input may be a reused buffer the caller keeps).
 */
export class SrtpSession {
  private readonly rtp: SessionKeys;
  private readonly rtcp: SessionKeys;
  private readonly ssrcs = new SsrcTable();
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

  /** Encrypts an RTP packet and appends its tag (in a new buffer); null when it is not RTP. */
  protectRtp(p: Buffer, now = Date.now()): Buffer | null {
    const h = rtpHeaderLength(p);
    if (h < 0) return null;
    const ssrc = p.readUInt32BE(8);
    const seq = p.readUInt16BE(2);
    const s = this.sending(ssrc, now);
    if (s === null) return null;
    const roc = Math.max(0, SrtpSession.guessRoc(s, seq));
    this.advance(s, roc, seq);
    const out = Buffer.allocUnsafe(p.length + this.suite.rtpTag);
    return this.rtp.cipher.protectRtp(p, out, h, p.length, roc) ? out : null;
  }

  /**
   * Verifies and decrypts an SRTP packet (in place); null when it fails (counted; the packet is
   * left as it came). An unknown SSRC is checked against a fresh state (ROC 0) and gets one only
   * once it authenticated.
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
    // A new SSRC that finds no slot is still authenticated first: only then is it counted as `full`.
    const fits = known !== undefined || this.ssrcs.hasRoom(now);
    if (!this.rtp.cipher.unprotectRtp(p, h, end, roc, fits)) {
      this.errors.auth++;
      return null;
    }
    if (!fits) {
      this.errors.full++;
      return null;
    }
    const s = this.accepted(known, ssrc, now);
    this.advance(s, roc, seq);
    s.replay.accept(index);
    return p.subarray(0, end);
  }

  /** Encrypts an RTCP compound packet, appends E|index and the tag (in a new buffer); null when it is not RTCP. */
  protectRtcp(p: Buffer, now = Date.now()): Buffer | null {
    if (p.length < RTCP_HEADER) return null;
    const suite = this.suite;
    const ssrc = p.readUInt32BE(4);
    const s = this.sending(ssrc, now);
    if (s === null) return null;
    const index = s.rtcpIndex;
    s.rtcpIndex = (s.rtcpIndex + 1) & 0x7fffffff;
    const word = (suite.mode !== 'null' ? E_FLAG : 0) + index;
    const out = Buffer.allocUnsafe(p.length + SRTCP_INDEX + suite.rtcpTag);
    return this.rtcp.cipher.protectRtcp(p, out, p.length, word) ? out : null;
  }

  /**
   * Verifies and decrypts an SRTCP packet (in place); null when it fails (counted; the packet is
   * left as it came). State as for SRTP. GCM's index is checked against replay before its tag,
   * the others' after theirs (where each sits in the packet).
   */
  unprotectRtcp(p: Buffer, now = Date.now()): Buffer | null {
    const suite = this.suite;
    if (p.length < RTCP_HEADER + SRTCP_INDEX + suite.rtcpTag) {
      this.errors.malformed++;
      return null;
    }
    const ssrc = p.readUInt32BE(4);
    const known = this.ssrcs.get(ssrc);
    const gcm = suite.mode === 'gcm';
    // GCM: packet | tag | E,index; the others: packet | E,index | tag.
    const end = p.length - SRTCP_INDEX - suite.rtcpTag;
    const index = p.readUInt32BE(gcm ? p.length - SRTCP_INDEX : end) & 0x7fffffff;
    const fresh = !known || known.rtcpReplay.check(index);
    if (gcm && !fresh) {
      this.errors.replay++;
      return null;
    }
    const fits = known !== undefined || this.ssrcs.hasRoom(now);
    if (!this.rtcp.cipher.unprotectRtcp(p, p.length, fresh && fits)) {
      this.errors.auth++;
      return null;
    }
    if (!fresh) {
      this.errors.replay++;
      return null;
    }
    if (!fits) {
      this.errors.full++;
      return null;
    }
    this.accepted(known, ssrc, now).rtcpReplay.accept(index);
    return p.subarray(0, end);
  }

  /** The state of an SSRC whose packet just authenticated (added now if new: `room` made sure it fits). */
  private accepted(known: SsrcState | undefined, ssrc: number, now: number): SsrcState {
    const s = known ?? this.ssrcs.add(ssrc, now)!;
    s.lastSeen = now;
    return s;
  }
}
