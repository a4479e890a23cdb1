import { X509Certificate } from 'node:crypto';
import { fingerprintsOf, type FingerprintHash } from './DtlsFingerprint.js';
import { CipherContext, HashAlgorithm, NamedCurveAlgorithm, SignatureAlgorithm } from 'werift-dtls/lib/dtls/src/index.js';

/** The relay's DTLS certificate: made at start-up, shared by every media thread. */
export interface DtlsIdentity {
  certPem: string;
  keyPem: string;
  /** `AB:CD:...` upper-case hex, as in `a=fingerprint`, under every hash rtpengine offers. */
  fingerprints: Record<FingerprintHash, string>;
}

let current: DtlsIdentity | null = null;

/** A self-signed ECDSA P-256 certificate (rtpengine's default `dtls-cert-cipher=prime256v1`). */
export async function createIdentity(): Promise<DtlsIdentity> {
  const { certPem, keyPem } = await CipherContext.createSelfSignedCertificateWithKey(
    { hash: HashAlgorithm.sha256_4, signature: SignatureAlgorithm.ecdsa_3 },
    NamedCurveAlgorithm.secp256r1_23,
  );
  return { certPem, keyPem, fingerprints: fingerprintsOf(new X509Certificate(certPem).raw) };
}

export function setIdentity(i: DtlsIdentity | null): void {
  current = i;
}

/** The identity of this thread, or null when none was made (DTLS unavailable). */
export function dtlsIdentity(): DtlsIdentity | null {
  return current;
}
