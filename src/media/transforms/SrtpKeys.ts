import { createSecretKey, type Cipher, type KeyObject } from 'node:crypto';
import { ecbCipher, f8MaskCipher } from './AesF8.js';
import { HmacSha1 } from './HmacSha1.js';
import { deriveKey, LABEL_RTCP_AUTH, LABEL_RTCP_ENCRYPTION, LABEL_RTCP_SALT, LABEL_RTP_AUTH, LABEL_RTP_ENCRYPTION, LABEL_RTP_SALT } from './SrtpKdf.js';
import type { SrtpSuite } from './SrtpSuite.js';

/** HMAC-SHA1 authentication key length (RFC 3711: 160 bits). */
const AUTH_KEY_LENGTH = 20;

/** Session keys of one direction and one protocol (SRTP or SRTCP), derived once. */
export class SessionKeys {
  readonly encryption: Buffer;
  readonly auth: Buffer;
  /** HMAC-SHA1 under `auth`, its pad blocks hashed once (null for GCM). */
  readonly mac: HmacSha1 | null;
  readonly salt: Buffer;
  /**
   * AES in ECB mode under the session key: counter-mode keystream is made by encrypting the
   * counter blocks with it, so the key schedule is built once per session, not per packet.
   */
  readonly ecb: Cipher | null;
  /** AES-f8: the cipher under k_e XOR m that makes IV' (null for other modes). */
  readonly f8Mask: Cipher | null;
  /**
   * GCM: the session key as a key object, validated and copied once. Node cannot give a GCM
   * context a new IV, so each packet needs a cipher of its own; made from this, it costs a fifth less.
   */
  readonly gcmKey: KeyObject | null;

  constructor(suite: SrtpSuite, masterKey: Buffer, masterSalt: Buffer, rtcp: boolean) {
    const base = rtcp ? LABEL_RTCP_ENCRYPTION : LABEL_RTP_ENCRYPTION;
    this.encryption = deriveKey(masterKey, masterSalt, base, suite.keyLength);
    this.auth = suite.mode === 'gcm' ? Buffer.alloc(0) : deriveKey(masterKey, masterSalt, rtcp ? LABEL_RTCP_AUTH : LABEL_RTP_AUTH, AUTH_KEY_LENGTH);
    this.mac = suite.mode === 'gcm' ? null : new HmacSha1(this.auth);
    this.salt = deriveKey(masterKey, masterSalt, rtcp ? LABEL_RTCP_SALT : LABEL_RTP_SALT, suite.saltLength);
    this.ecb = suite.mode === 'ctr' || suite.mode === 'f8' ? ecbCipher(this.encryption) : null;
    this.f8Mask = suite.mode === 'f8' ? f8MaskCipher(this.encryption, this.salt) : null;
    this.gcmKey = suite.mode === 'gcm' ? createSecretKey(this.encryption) : null;
  }
}
