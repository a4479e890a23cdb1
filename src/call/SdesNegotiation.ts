import { randomBytes } from 'node:crypto';
import type { LegCrypto, SrtpKeying } from '../media/MediaPlane.js';
import { SRTP_SUITES, srtpSuite } from '../media/transforms/SrtpSuite.js';
import { formatCrypto, PLAIN_FORMAT, type CryptoFormat, type SdesCrypto } from '../sdp/crypto.js';
import type { Media } from './Media.js';

export type ExchangeKind = 'offer' | 'answer';

/** The call's SDES choices (NG `SDES` list or `SDES-...` flags). Suite names as rtpengine writes them. */
export interface SdesOptions {
  off: boolean;
  /** `SDES-no-<suite>`: never offered nor accepted. */
  no: ReadonlySet<string>;
  /** `SDES-only-<suite>`: only these are offered (empty: no restriction). */
  only: ReadonlySet<string>;
  /** `SDES-static`: an answer keeps the line it gave before while the offer still has it. */
  static: boolean;
  /** `SDES-pad` / `pad crypto`, `SDES-lifetime`: how the lines are written. */
  format: CryptoFormat;
}

/** NG `OSRTP` list / `OSRTP-...` flags (RFC 8643). */
export interface OsrtpOptions {
  /** `offer`: a plain RTP offer goes out with crypto lines in its plain profile. */
  offer: boolean;
  /** `accept`: an OSRTP offer answered in plain RTP still gets SRTP from the relay. */
  accept: boolean;
}

export const DEFAULT_SDES: SdesOptions = { off: false, no: new Set(), only: new Set(), static: false, format: PLAIN_FORMAT };

/** NG flags fold case and `_`/`-`; suite names are compared folded the same way. */
export const foldSuite = (name: string): string => name.toLowerCase().replace(/_/g, '-');

function allowed(suite: string, opt: SdesOptions): boolean {
  const f = foldSuite(suite);
  if (opt.no.has(f)) return false;
  return opt.only.size === 0 || opt.only.has(f);
}

function fresh(tag: number, suiteName: string, previous: readonly SdesCrypto[]): SdesCrypto {
  // A re-offer keeps the key it gave for the same suite: re-keying comes from the parties.
  const kept = previous.find((p) => p.suite === suiteName && p.tag === tag);
  if (kept) return kept;
  const suite = srtpSuite(suiteName)!;
  const raw = randomBytes(suite.keyLength + suite.saltLength);
  return { tag, suite: suiteName, key: raw.subarray(0, suite.keyLength), salt: raw.subarray(suite.keyLength) };
}

/**
 * The crypto lines of an SRTP offer towards the receiving party, as rtpengine 10.5 writes
 * them: the offerer's own lines first, with their tags and keys (so the same suite chosen on
 * both sides needs no re-encryption); then the lines the receiver had from us before for
 * suites not among those (after an answer: the one it took), tags moved past the offerer's;
 * then every other suite it knows in its preference order with fresh keys, tags counting on.
 * `SDES-no-`/`SDES-only-` suites are left out.
 */
export function offerCrypto(offered: readonly SdesCrypto[], previous: readonly SdesCrypto[], opt: SdesOptions): SdesCrypto[] {
  if (opt.off) return [];
  const out: SdesCrypto[] = [];
  const seen = new Set<string>();
  let next = 1;
  for (const c of offered) {
    next = Math.max(next, c.tag + 1);
    seen.add(c.suite);
    if (allowed(c.suite, opt)) out.push(c);
  }
  for (const p of previous) {
    if (seen.has(p.suite) || !allowed(p.suite, opt)) continue;
    const tag = Math.max(p.tag, next);
    next = tag + 1;
    seen.add(p.suite);
    out.push(tag === p.tag ? p : { ...p, tag });
  }
  for (const s of SRTP_SUITES) {
    if (seen.has(s.name) || !allowed(s.name, opt)) continue;
    out.push(fresh(next++, s.name, previous));
  }
  return out;
}

/**
 * The line of an answer towards an SDES offerer: with `SDES-static`, the line it got before
 * while its offer still has that tag and suite; else the suite and tag the other side took,
 * with its key, when the offerer offered that same line; else the offerer's first usable
 * suite with a key of ours. null when none of its suites is usable.
 */
export function answerCrypto(offered: readonly SdesCrypto[], taken: SdesCrypto | null, previous: readonly SdesCrypto[], opt: SdesOptions, keep = false): SdesCrypto | null {
  const before = previous[0];
  if (keep && before && previous.length === 1 && offered.some((c) => c.tag === before.tag && c.suite === before.suite)) return before;
  if (taken) {
    const same = offered.find((c) => c.tag === taken.tag && c.suite === taken.suite);
    if (same && allowed(same.suite, opt)) return taken;
  }
  const first = offered.find((c) => allowed(c.suite, opt));
  return first ? fresh(first.tag, first.suite, previous) : null;
}

export const keying = (c: SdesCrypto): SrtpKeying => (c.mki ? { suite: c.suite, key: c.key, salt: c.salt, mki: c.mki } : { suite: c.suite, key: c.key, salt: c.salt });

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a === undefined || b === undefined ? a === b : Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const sameKey = (a: SrtpKeying | null, b: SrtpKeying | null): boolean =>
  a !== null && b !== null && a.suite === b.suite && sameBytes(a.key, b.key) && sameBytes(a.salt, b.salt) && sameBytes(a.mki, b.mki);

/**
 * Leaves out what needs no work: where what one party sends is encrypted with the very key
 * the relay would encrypt it with towards the other, the packets pass as they are.
 */
export function passThrough(a: LegCrypto, b: LegCrypto): [LegCrypto | null, LegCrypto | null] {
  const x = { ...a };
  const y = { ...b };
  if (sameKey(a.recv, b.send)) x.recv = y.send = null;
  if (sameKey(b.recv, a.send)) y.recv = x.send = null;
  const none = (c: LegCrypto): LegCrypto | null => (c.recv === null && c.send === null ? null : c);
  return [none(x), none(y)];
}

/**
 * SDES for one media section: at an offer, the crypto lines the receiver is offered; at an
 * answer, the line the offerer gets back and the keys of both sides' legs. `inSecure` and
 * `outSecure` say whether each side speaks SRTP (by profile or OSRTP). Returns the
 * `a=crypto` lines to write (none when the receiver's side is plain).
 */
export function negotiateSdes(kind: ExchangeKind, sm: Media, rm: Media, inSecure: boolean, outSecure: boolean, lines: SdesCrypto[], opt: SdesOptions, offererDtls: boolean): string[] {
  sm.sdes = inSecure ? lines : [];
  if (kind === 'offer') {
    sm.sdesOptions = opt;
    // rtpengine decides SDES towards a party once: a re-offer without `SDES=off` keeps it off.
    if (outSecure) rm.sdesOff ??= opt.off;
    const off = opt.off || rm.sdesOff === true;
    rm.ourSdes = outSecure && !off ? offerCrypto(sm.sdes, rm.ourSdes, opt) : [];
    return rm.ourSdes.map((c) => formatCrypto(c, opt.format));
  }
  // sm answered what rm offered. The answerer's line names one of the lines offered to it.
  const their = sm.sdes[0];
  const ours = their ? sm.ourSdes.find((c) => c.tag === their.tag && c.suite === their.suite) : undefined;
  const taken = their && ours ? their : null;
  const answererCrypto = taken && ours ? { recv: keying(taken), send: keying(ours) } : null;
  // What the answerer took is all it has from us: a re-offer to it starts from that line.
  if (ours) sm.ourSdes = [ours];
  let offererCrypto = null;
  const previous = rm.ourSdes;
  rm.ourSdes = [];
  if (outSecure && rm.sdes.length > 0 && !offererDtls) {
    const line = answerCrypto(rm.sdes, taken, previous, rm.sdesOptions, opt.static);
    const theirs = line ? rm.sdes.find((c) => c.tag === line.tag) : undefined;
    if (line && theirs) {
      rm.ourSdes = [line];
      offererCrypto = { recv: keying(theirs), send: keying(line) };
    }
  }
  if (answererCrypto && offererCrypto) [sm.crypto, rm.crypto] = passThrough(answererCrypto, offererCrypto);
  else {
    sm.crypto = answererCrypto;
    rm.crypto = offererCrypto;
  }
  return rm.ourSdes.map((c) => formatCrypto(c, opt.format));
}
