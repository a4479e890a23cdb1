import type { LegCrypto, LegSrtpState, SrtpKeying } from '../MediaPlane.js';
import { SrtpSession } from './SrtpSession.js';
import { srtpSuite } from './SrtpSuite.js';

function session(k: SrtpKeying | null, protects: boolean): SrtpSession | null {
  if (k === null) return null;
  const suite = srtpSuite(k.suite);
  if (!suite) throw new RangeError(`unknown SRTP suite ${k.suite}`);
  return new SrtpSession(suite, Buffer.from(k.key), Buffer.from(k.salt), protects);
}

const keyText = (k: SrtpKeying | null): string =>
  k === null ? '-' : `${k.suite}:${Buffer.from(k.key).toString('hex')}:${Buffer.from(k.salt).toString('hex')}${k.mki ? `:${Buffer.from(k.mki).toString('hex')}` : ''}`;

/** Identity of a leg's SDES keying: the same text keeps the running sessions (their ROC and replay state). */
export function sdesIdentity(c: LegCrypto | null): string {
  return c === null || (c.recv === null && c.send === null) ? '' : `${keyText(c.recv)}|${keyText(c.send)}`;
}

/** Identity of a leg's DTLS setup: a new role or peer fingerprint means a new handshake. */
export function dtlsIdentityOf(c: LegCrypto | null): string {
  const d = c?.dtls;
  return d ? `${d.role}|${d.fingerprint?.hash ?? ''}|${d.fingerprint?.value ?? ''}` : '';
}

/** Identity of a leg's ICE: anything new (a restart, a role, candidates) means a new agent. */
export function iceIdentity(c: LegCrypto | null): string {
  return c?.ice ? JSON.stringify(c.ice) : '';
}

/** Identity of everything a leg does to packets. */
export function cryptoIdentity(c: LegCrypto | null): string {
  return `${sdesIdentity(c)}#${keyText(c?.made ?? null)}#${dtlsIdentityOf(c)}#${iceIdentity(c)}`;
}

/**
 * A leg's packet pipeline stage for SRTP: what arrives from the leg's party is verified and
 * decrypted with the party's key (`recv`); what leaves towards it is encrypted with ours
 * (`send`). Either side may be plain (null).
 */
export class SrtpTransform {
  readonly recv: SrtpSession | null;
  readonly send: SrtpSession | null;
  /** MKI length of the peer's packets (0: none): skipped before they are verified. */
  private readonly recvMki: number;
  /** Our MKI, put into every packet we protect (RFC 3711 3.1: between the payload and the tag). */
  private readonly sendMki: Buffer | null;

  constructor(
    c: LegCrypto,
    readonly identity = sdesIdentity(c),
  ) {
    this.recv = session(c.recv, false);
    this.send = session(c.send, true);
    this.recvMki = c.recv?.mki?.length ?? 0;
    this.sendMki = c.send?.mki && c.send.mki.length > 0 ? Buffer.from(c.send.mki) : null;
  }

  /** Where its streams stand, for the record. */
  get state(): LegSrtpState {
    return { recv: this.recv?.indices() ?? [], send: this.send?.indices() ?? [] };
  }

  /** Continues streams from a record (SSRCs that already sent here keep their own state). */
  seed(state: LegSrtpState, now: number): void {
    this.recv?.seed(state.recv, now);
    this.send?.seed(state.send, now);
  }

  /** `f` hears (rarely) when an index moved on far enough to be recorded. */
  onIndex(f: () => void): void {
    if (this.recv) this.recv.onIndex = f;
    if (this.send) this.send.onIndex = f;
  }

  /** Plain packet, or null (dropped and counted) when it does not verify. */
  receive(p: Buffer, rtcp: boolean, now: number): Buffer | null {
    const s = this.recv;
    if (s === null) return p;
    const q = this.recvMki === 0 ? p : SrtpTransform.dropMki(s, p, rtcp, this.recvMki);
    if (q === null) return null;
    return rtcp ? s.unprotectRtcp(q, now) : s.unprotectRtp(q, now);
  }

  /** The packet without its MKI (the tag moved over it, in place); null when too short (counted). */
  private static dropMki(s: SrtpSession, p: Buffer, rtcp: boolean, mki: number): Buffer | null {
    const tag = rtcp ? s.suite.rtcpTag : s.suite.rtpTag;
    if (p.length < 12 + mki + tag) {
      s.errors.malformed++;
      return null;
    }
    p.copyWithin(p.length - tag - mki, p.length - tag);
    return p.subarray(0, p.length - mki);
  }

  /** The packet to put on the wire towards this leg's party, or null when it cannot be protected. */
  protect(p: Buffer, rtcp: boolean, now: number): Buffer | null {
    const s = this.send;
    if (s === null) return p;
    const out = rtcp ? s.protectRtcp(p, now) : s.protectRtp(p, now);
    return out === null || this.sendMki === null ? out : this.withMki(out, rtcp ? s.suite.rtcpTag : s.suite.rtpTag);
  }

  /** A protected packet with our MKI before its tag (a copy: only keys with an MKI pay for it). */
  private withMki(p: Buffer, tag: number): Buffer {
    const mki = this.sendMki!;
    const out = Buffer.allocUnsafe(p.length + mki.length);
    const body = p.length - tag;
    p.copy(out, 0, 0, body);
    mki.copy(out, body);
    p.copy(out, body + mki.length, body);
    return out;
  }
}
