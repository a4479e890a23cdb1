import { randomBytes } from 'node:crypto';
import type { LegCrypto, SrtpKeying } from '../media/MediaPlane.js';
import { SRTP_SUITES, srtpSuite } from '../media/transforms/SrtpSuite.js';
import { formatCrypto, isSrtpProtocol, type SdesCrypto } from '../sdp/crypto.js';
import type { Media } from './Media.js';

export type ExchangeKind = 'offer' | 'answer';

/** The call's SDES choices (NG `SDES` list or `SDES-...` flags). Suite names as rtpengine writes them. */
export interface SdesOptions {
  off: boolean;
  /** `SDES-no-<suite>`: never offered nor accepted. */
  no: ReadonlySet<string>;
  /** `SDES-only-<suite>`: only these are offered (empty: no restriction). */
  only: ReadonlySet<string>;
}

export const DEFAULT_SDES: SdesOptions = { off: false, no: new Set(), only: new Set() };

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
 * both sides needs no re-encryption), then every other suite it knows in its preference
 * order with fresh keys, tags counting on; `SDES-no-`/`SDES-only-` suites left out.
 */
export function offerCrypto(offered: readonly SdesCrypto[], previous: readonly SdesCrypto[], opt: SdesOptions): SdesCrypto[] {
  if (opt.off) return [];
  const out: SdesCrypto[] = [];
  const seen = new Set<string>();
  let tag = 0;
  for (const c of offered) {
    tag = Math.max(tag, c.tag);
    seen.add(c.suite);
    if (allowed(c.suite, opt)) out.push(c);
  }
  for (const s of SRTP_SUITES) {
    if (seen.has(s.name) || !allowed(s.name, opt)) continue;
    out.push(fresh(++tag, s.name, previous));
  }
  return out;
}

/**
 * The line of an answer towards an SDES offerer: the suite and tag the other side took, with
 * its key, when the offerer offered that same line; else the offerer's first usable suite
 * with a key of ours. null when none of its suites is usable.
 */
export function answerCrypto(offered: readonly SdesCrypto[], taken: SdesCrypto | null, previous: readonly SdesCrypto[], opt: SdesOptions): SdesCrypto | null {
  if (taken) {
    const same = offered.find((c) => c.tag === taken.tag && c.suite === taken.suite);
    if (same && allowed(same.suite, opt)) return taken;
  }
  const first = offered.find((c) => allowed(c.suite, opt));
  return first ? fresh(first.tag, first.suite, previous) : null;
}

export const keying = (c: SdesCrypto): SrtpKeying => ({ suite: c.suite, key: c.key, salt: c.salt });

const sameKey = (a: SrtpKeying | null, b: SrtpKeying | null): boolean =>
  a !== null && b !== null && a.suite === b.suite && Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)) === 0 && Buffer.compare(Buffer.from(a.salt), Buffer.from(b.salt)) === 0;

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
 * answer, the line the offerer gets back and the keys of both sides' legs. Returns the
 * `a=crypto` lines to write (none when the receiver's side is plain).
 */
export function negotiateSdes(kind: ExchangeKind, sm: Media, rm: Media, inProtocol: string, outProtocol: string, lines: SdesCrypto[], opt: SdesOptions, offererDtls: boolean): string[] {
  sm.sdes = isSrtpProtocol(inProtocol) ? lines : [];
  if (kind === 'offer') {
    sm.sdesOptions = opt;
    rm.ourSdes = isSrtpProtocol(outProtocol) ? offerCrypto(sm.sdes, rm.ourSdes, opt) : [];
    return rm.ourSdes.map(formatCrypto);
  }
  // sm answered what rm offered. The answerer's line names one of the lines offered to it.
  const their = sm.sdes[0];
  const ours = their ? sm.ourSdes.find((c) => c.tag === their.tag && c.suite === their.suite) : undefined;
  const taken = their && ours ? their : null;
  const answererCrypto = taken && ours ? { recv: keying(taken), send: keying(ours) } : null;
  let offererCrypto = null;
  const previous = rm.ourSdes;
  rm.ourSdes = [];
  if (isSrtpProtocol(outProtocol) && rm.sdes.length > 0 && !offererDtls) {
    const line = answerCrypto(rm.sdes, taken, previous, rm.sdesOptions);
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
  return rm.ourSdes.map(formatCrypto);
}
