import { SrtpCipher } from './SrtpCipher.js';
import { deriveKey, LABEL_RTCP_AUTH, LABEL_RTCP_ENCRYPTION, LABEL_RTCP_SALT, LABEL_RTP_AUTH, LABEL_RTP_ENCRYPTION, LABEL_RTP_SALT } from './SrtpKdf.js';
import type { SrtpSuite } from './SrtpSuite.js';

/** HMAC-SHA1 authentication key length (RFC 3711: 160 bits). */
const AUTH_KEY_LENGTH = 20;

/** Session keys of one direction and one protocol (SRTP or SRTCP), derived once, ready as a cipher. */
export class SessionKeys {
  readonly encryption: Buffer;
  /** The HMAC-SHA1 key (null for GCM, which authenticates with its own tag). */
  readonly auth: Buffer | null;
  readonly salt: Buffer;
  readonly cipher: SrtpCipher;

  constructor(suite: SrtpSuite, masterKey: Buffer, masterSalt: Buffer, rtcp: boolean) {
    this.encryption = deriveKey(masterKey, masterSalt, rtcp ? LABEL_RTCP_ENCRYPTION : LABEL_RTP_ENCRYPTION, suite.keyLength);
    this.auth = suite.mode === 'gcm' ? null : deriveKey(masterKey, masterSalt, rtcp ? LABEL_RTCP_AUTH : LABEL_RTP_AUTH, AUTH_KEY_LENGTH);
    this.salt = deriveKey(masterKey, masterSalt, rtcp ? LABEL_RTCP_SALT : LABEL_RTP_SALT, suite.saltLength);
    this.cipher = new SrtpCipher(suite.mode, this.encryption, this.salt, this.auth, rtcp ? suite.rtcpTag : suite.rtpTag);
  }
}
