import type { LegCrypto, LegSrtpState, SrtpKeying } from '../MediaPlane.js';
import { SrtpSession } from './SrtpSession.js';
import { srtpSuite } from './SrtpSuite.js';

function session(k: SrtpKeying | null, protects: boolean): SrtpSession | null {
  if (k === null) return null;
  const suite = srtpSuite(k.suite);
  if (!suite) throw new RangeError(`unknown SRTP suite ${k.suite}`);
  return new SrtpSession(suite, Buffer.from(k.key), Buffer.from(k.salt), protects);
}

const keyText = (k: SrtpKeying | null): string => (k === null ? '-' : `${k.suite}:${Buffer.from(k.key).toString('hex')}:${Buffer.from(k.salt).toString('hex')}`);

/** Identity of a leg's SDES keying: the same text keeps the running sessions (their ROC and replay state). */
export function sdesIdentity(c: LegCrypto | null): string {
  return c === null || (c.recv === null && c.send === null) ? '' : `${keyText(c.recv)}|${keyText(c.send)}`;
}

/** Identity of a leg's DTLS setup: a new role or peer fingerprint means a new handshake. */
export function dtlsIdentityOf(c: LegCrypto | null): string {
  const d = c?.dtls;
  return d ? `${d.role}|${d.fingerprint?.hash ?? ''}|${d.fingerprint?.value ?? ''}` : '';
}

export function iceIdentity(c: LegCrypto | null): string {
  return c?.ice ? `${c.ice.ufrag}|${c.ice.pwd}` : '';
}

/** Identity of everything a leg does to packets. */
export function cryptoIdentity(c: LegCrypto | null): string {
  return `${sdesIdentity(c)}#${dtlsIdentityOf(c)}#${iceIdentity(c)}`;
}

/**
 * A leg's packet pipeline stage for SRTP: what arrives from the leg's party is verified and
 * decrypted with the party's key (`recv`); what leaves towards it is encrypted with ours
 * (`send`). Either side may be plain (null).
 */
export class SrtpTransform {
  readonly recv: SrtpSession | null;
  readonly send: SrtpSession | null;

  constructor(
    c: LegCrypto,
    readonly identity = sdesIdentity(c),
  ) {
    this.recv = session(c.recv, false);
    this.send = session(c.send, true);
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
    return rtcp ? s.unprotectRtcp(p, now) : s.unprotectRtp(p, now);
  }

  /** The packet to put on the wire towards this leg's party, or null when it cannot be protected. */
  protect(p: Buffer, rtcp: boolean, now: number): Buffer | null {
    const s = this.send;
    if (s === null) return p;
    return rtcp ? s.protectRtcp(p, now) : s.protectRtp(p, now);
  }
}
