import { srtpSuite } from '../media/transforms/SrtpSuite.js';
import { attributeName, type MediaDescription } from './SessionDescription.js';

/** One `a=crypto` line (RFC 4568) with a single inline key the relay can use. */
export interface SdesCrypto {
  tag: number;
  suite: string;
  key: Buffer;
  salt: Buffer;
}

// Bounded and linear: a tag, a suite name, one inline key; lifetime may follow, an MKI may not.
const CRYPTO_LINE = /^a=crypto:(\d{1,9}) ([A-Za-z0-9_]{1,64}) inline:([A-Za-z0-9+/]{1,128})={0,2}(\|[^\s|]{1,32})?(?:\s|$)/;

/**
 * The `a=crypto` lines of a media section the relay can key SRTP from, in SDP order. Lines
 * with an unknown suite, a key of the wrong length, more than one key or an MKI are left out
 * (rtpengine ignores what it cannot use the same way).
 */
export function parseCrypto(m: MediaDescription): SdesCrypto[] {
  const out: SdesCrypto[] = [];
  for (const line of m.lines) {
    if (!line.startsWith('a=crypto:')) continue;
    const r = CRYPTO_LINE.exec(line);
    if (!r) continue;
    const suite = srtpSuite(r[2]!);
    if (!suite) continue;
    if (r[4] !== undefined && r[4].includes(':')) continue; // |MKI:length
    const raw = Buffer.from(r[3]!, 'base64');
    if (raw.length !== suite.keyLength + suite.saltLength) continue;
    out.push({ tag: Number(r[1]), suite: suite.name, key: raw.subarray(0, suite.keyLength), salt: raw.subarray(suite.keyLength) });
  }
  return out;
}

/** rtpengine's `a=crypto` text: the inline key in base64 without padding, no key parameters. */
export function formatCrypto(c: SdesCrypto): string {
  const b64 = Buffer.concat([c.key, c.salt]).toString('base64').replace(/=+$/, '');
  return `a=crypto:${c.tag} ${c.suite} inline:${b64}`;
}

export function isCryptoAttribute(line: string): boolean {
  return attributeName(line) === 'crypto';
}

/** Whether a transport protocol carries SRTP (RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVP[F]). */
export function isSrtpProtocol(protocol: string): boolean {
  return /\bRTP\/SAVPF?$/.test(protocol);
}
