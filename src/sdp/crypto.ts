import { srtpSuite } from '../media/transforms/SrtpSuite.js';
import { attributeName, type MediaDescription, type SessionDescription } from './SessionDescription.js';

/** One `a=crypto` line (RFC 4568) with a single inline key the relay can use. */
export interface SdesCrypto {
  tag: number;
  suite: string;
  key: Buffer;
  salt: Buffer;
  /** The master key identifier every packet under this key carries (RFC 3711 3.1), when the line gave one. */
  mki?: Buffer;
}

/** How the relay writes its `a=crypto` lines (NG `SDES-pad`, `SDES-lifetime`). */
export interface CryptoFormat {
  /** Keep the base64 padding (`pad crypto`). */
  pad: boolean;
  /** Append the key lifetime `|2^31`. */
  lifetime: boolean;
}

export const PLAIN_FORMAT: CryptoFormat = { pad: false, lifetime: false };

// Bounded and linear: a tag, a suite name, one inline key, then at most a lifetime and an MKI.
const CRYPTO_LINE = /^a=crypto:(\d{1,9}) ([A-Za-z0-9_]{1,64}) inline:([A-Za-z0-9+/]{1,128}={0,2})((?:\|[^\s|]{1,32}){0,2})(?:\s|$)/;
/** A master key lifetime (SRTP packets): at most 2^48, as RFC 3711 allows for these suites. */
const MAX_LIFETIME = 2 ** 48;
/** rtpengine refuses MKIs longer than this many bytes. */
const MAX_MKI = 128;

/** `2^N` or a decimal count: valid when 0 < lifetime ≤ 2^48 (rtpengine 10.5's check). */
function validLifetime(s: string): boolean {
  if (s.startsWith('2^')) {
    const n = Number(s.slice(2));
    return /^\d{1,2}$/.test(s.slice(2)) && n > 0 && 2 ** n <= MAX_LIFETIME;
  }
  if (!/^\d{1,16}$/.test(s)) return false;
  const n = Number(s);
  return n > 0 && n <= MAX_LIFETIME;
}

/** `VALUE:LENGTH` into LENGTH bytes holding VALUE big-endian; null when malformed. */
function parseMki(s: string): Buffer | null {
  const m = /^(\d{1,10}):(\d{1,3})$/.exec(s);
  if (!m) return null;
  const value = Number(m[1]);
  const length = Number(m[2]);
  if (length < 1 || length > MAX_MKI || value > 0xffffffff) return null;
  const out = Buffer.alloc(length);
  for (let i = 0, v = value; i < Math.min(length, 4); i++, v = Math.floor(v / 256)) out[length - 1 - i] = v & 0xff;
  return out;
}

/** Lifetime and MKI after the key: `|LIFETIME`, `|MKI:LEN` or both; false when malformed. */
function keyParameters(rest: string): { mki: Buffer | undefined } | false {
  const parts = rest === '' ? [] : rest.slice(1).split('|');
  let mki: Buffer | undefined;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.includes(':')) {
      if (i !== parts.length - 1) return false;
      const m = parseMki(p);
      if (!m) return false;
      mki = m;
    } else if (i !== 0 || !validLifetime(p)) return false;
  }
  return { mki };
}

/**
 * The `a=crypto` lines of a media section the relay can key SRTP from, in SDP order. Lines
 * with an unknown suite, a key of the wrong length, an invalid lifetime or MKI are left out
 * (rtpengine ignores what it cannot use the same way). A lifetime is accepted and not
 * enforced: the relay re-keys only when the parties do.
 */
export function parseCrypto(m: MediaDescription): SdesCrypto[] {
  const out: SdesCrypto[] = [];
  for (const line of m.lines) {
    if (!line.startsWith('a=crypto:')) continue;
    const r = CRYPTO_LINE.exec(line);
    if (!r) continue;
    const suite = srtpSuite(r[2]!);
    if (!suite) continue;
    const params = keyParameters(r[4]!);
    if (!params) continue;
    const raw = Buffer.from(r[3]!, 'base64');
    if (raw.length !== suite.keyLength + suite.saltLength) continue;
    const c: SdesCrypto = { tag: Number(r[1]), suite: suite.name, key: raw.subarray(0, suite.keyLength), salt: raw.subarray(suite.keyLength) };
    if (params.mki) c.mki = params.mki;
    out.push(c);
  }
  return out;
}

/** The MKI's `VALUE:LENGTH` as rtpengine writes it: the value of its last (up to) four bytes. */
function mkiText(mki: Buffer): string {
  let v = 0;
  for (let i = Math.max(0, mki.length - 4); i < mki.length; i++) v = v * 256 + mki[i]!;
  return `${v}:${mki.length}`;
}

/** rtpengine's `a=crypto` text: the inline key in base64 (unpadded unless asked), lifetime and MKI when given. */
export function formatCrypto(c: SdesCrypto, f: CryptoFormat = PLAIN_FORMAT): string {
  let b64 = Buffer.concat([c.key, c.salt]).toString('base64');
  if (!f.pad) b64 = b64.replace(/=+$/, '');
  const lifetime = f.lifetime ? '|2^31' : '';
  const mki = c.mki ? `|${mkiText(c.mki)}` : '';
  return `a=crypto:${c.tag} ${c.suite} inline:${b64}${lifetime}${mki}`;
}

export function isCryptoAttribute(line: string): boolean {
  return attributeName(line) === 'crypto';
}

/** Whether a transport protocol carries SRTP by name (RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVP[F]). */
export function isSrtpProtocol(protocol: string): boolean {
  return /\bRTP\/SAVPF?$/.test(protocol);
}

/** RTP/AVP and RTP/AVPF: profiles that may carry SRTP opportunistically (OSRTP, RFC 8643). */
export function isOsrtpCapable(protocol: string): boolean {
  return protocol === 'RTP/AVP' || protocol === 'RTP/AVPF';
}

/** Whether a party speaks SRTP on this profile: by its name, or as OSRTP on a plain RTP profile. */
export function isSecure(protocol: string, osrtp: boolean): boolean {
  return isSrtpProtocol(protocol) || (osrtp && isOsrtpCapable(protocol));
}

/** A media section offering SRTP keys: `a=crypto` in it, or `a=fingerprint` in it or the session (RFC 8643 OSRTP). */
export function hasSecurity(sd: SessionDescription, m: MediaDescription): boolean {
  return m.lines.some((l) => l.startsWith('a=crypto:') || l.startsWith('a=fingerprint:')) || sd.sessionLines.some((l) => l.startsWith('a=fingerprint:'));
}
