import { fingerprintsOf, type FingerprintHash } from './DtlsFingerprint.js';
import { selfSignedCertificate, type CertificateSettings } from './SelfSignedCertificate.js';

/** The relay's DTLS certificate: made at start-up, shared by every media thread. */
export interface DtlsIdentity {
  certPem: string;
  keyPem: string;
  /** The key's kind: it decides the handshake's cipher suite (ECDHE-ECDSA or ECDHE-RSA). */
  keyType: CertificateSettings['keyType'];
  /** `AB:CD:...` upper-case hex, as in `a=fingerprint`, under every hash rtpengine offers. */
  fingerprints: Record<FingerprintHash, string>;
}

let current: DtlsIdentity | null = null;

/** rtpengine's defaults: ECDSA P-256, signed with SHA-256. */
export const DEFAULT_CERTIFICATE: CertificateSettings = { keyType: 'prime256v1', rsaBits: 2048, signature: 'sha-256', commonName: 'ngrelay' };

/** A fresh self-signed certificate (`dtls-cert-cipher`, `dtls-rsa-key-size`, `dtls-signature`). */
export async function createIdentity(settings: CertificateSettings = DEFAULT_CERTIFICATE): Promise<DtlsIdentity> {
  const { certPem, keyPem, der } = await selfSignedCertificate(settings);
  return { certPem, keyPem, keyType: settings.keyType, fingerprints: fingerprintsOf(der) };
}

export function setIdentity(i: DtlsIdentity | null): void {
  current = i;
}

/** The identity of this thread, or null when none was made (DTLS unavailable). */
export function dtlsIdentity(): DtlsIdentity | null {
  return current;
}
