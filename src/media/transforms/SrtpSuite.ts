/**
 * SRTP crypto suites (RFC 4568, RFC 6188, RFC 7714) in the order rtpengine 10.5 offers them
 * in generated `a=crypto` lines. `cipher` names the Node cipher the packet transform uses.
 */
export interface SrtpSuite {
  readonly name: string;
  /** 'ctr': AES counter mode (RFC 3711), 'gcm': AEAD (RFC 7714), 'f8': AES-f8, 'null': no encryption. */
  readonly mode: 'ctr' | 'gcm' | 'f8' | 'null';
  /** Master (and session encryption) key length in bytes. */
  readonly keyLength: number;
  /** Master salt length in bytes (14; 12 for GCM). */
  readonly saltLength: number;
  /** Authentication tag of SRTP (bytes); GCM: the AEAD tag. */
  readonly rtpTag: number;
  /** Authentication tag of SRTCP (bytes). */
  readonly rtcpTag: number;
}

const ctr = (name: string, keyLength: number, rtpTag: number): SrtpSuite => ({ name, mode: 'ctr', keyLength, saltLength: 14, rtpTag, rtcpTag: 10 });

/** Every suite rtpengine 10.5 knows, in its preference (and offer) order. */
export const SRTP_SUITES: readonly SrtpSuite[] = [
  { name: 'AEAD_AES_256_GCM', mode: 'gcm', keyLength: 32, saltLength: 12, rtpTag: 16, rtcpTag: 16 },
  { name: 'AEAD_AES_128_GCM', mode: 'gcm', keyLength: 16, saltLength: 12, rtpTag: 16, rtcpTag: 16 },
  ctr('AES_256_CM_HMAC_SHA1_80', 32, 10),
  ctr('AES_256_CM_HMAC_SHA1_32', 32, 4),
  ctr('AES_192_CM_HMAC_SHA1_80', 24, 10),
  ctr('AES_192_CM_HMAC_SHA1_32', 24, 4),
  ctr('AES_CM_128_HMAC_SHA1_80', 16, 10),
  ctr('AES_CM_128_HMAC_SHA1_32', 16, 4),
  { name: 'F8_128_HMAC_SHA1_80', mode: 'f8', keyLength: 16, saltLength: 14, rtpTag: 10, rtcpTag: 10 },
  { name: 'F8_128_HMAC_SHA1_32', mode: 'f8', keyLength: 16, saltLength: 14, rtpTag: 4, rtcpTag: 10 },
  { name: 'NULL_HMAC_SHA1_80', mode: 'null', keyLength: 16, saltLength: 14, rtpTag: 10, rtcpTag: 10 },
  { name: 'NULL_HMAC_SHA1_32', mode: 'null', keyLength: 16, saltLength: 14, rtpTag: 4, rtcpTag: 10 },
];

const BY_NAME = new Map(SRTP_SUITES.map((s) => [s.name, s]));

/** The suite by its SDP name (case as written by RFC 4568), or undefined. */
export function srtpSuite(name: string): SrtpSuite | undefined {
  return BY_NAME.get(name);
}
