import { createHash } from 'node:crypto';

/** The `a=fingerprint` hashes rtpengine 10.5 knows (RFC 8122), in its order: sha-256 is its default. */
export const FINGERPRINT_HASHES = ['sha-256', 'sha-1', 'sha-224', 'sha-384', 'sha-512'] as const;
export type FingerprintHash = (typeof FINGERPRINT_HASHES)[number];

const KNOWN = new Set<string>(FINGERPRINT_HASHES);

export function isFingerprintHash(name: string): name is FingerprintHash {
  return KNOWN.has(name);
}

/** `AB:CD:...` (upper-case hex) of a DER certificate under `hash`. */
export function fingerprintOf(der: Buffer, hash: FingerprintHash): string {
  const h = createHash(hash.replace('-', '')).update(der).digest('hex').toUpperCase();
  return h.replace(/(..)(?!$)/g, '$1:');
}

/** Every fingerprint of a certificate, by hash. */
export function fingerprintsOf(der: Buffer): Record<FingerprintHash, string> {
  const out = {} as Record<FingerprintHash, string>;
  for (const h of FINGERPRINT_HASHES) out[h] = fingerprintOf(der, h);
  return out;
}
