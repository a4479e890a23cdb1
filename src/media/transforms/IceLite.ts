import { ATTR_USE_CANDIDATE, ATTR_USERNAME, BINDING_REQUEST, bindingSuccess, checkFingerprint, checkIntegrity, parseStun } from './Stun.js';

/** What a binding request asks of the leg. */
export interface IceCheck {
  /** The response to send back to the request's source. */
  response: Buffer;
  /** The controlling agent nominated this pair (USE-CANDIDATE). */
  nominated: boolean;
}

/**
 * The ICE-lite side of one component (RFC 8445 2.5): answers authenticated binding requests
 * for our ufrag with our password; the peer (full agent, controlling) picks and nominates.
 * Requests for another ufrag or with a bad MESSAGE-INTEGRITY/FINGERPRINT get no answer.
 */
export class IceLite {
  private readonly prefix: string;

  constructor(
    readonly ufrag: string,
    readonly pwd: string,
  ) {
    this.prefix = `${ufrag}:`;
  }

  check(p: Buffer, address: string, port: number): IceCheck | null {
    const m = parseStun(p);
    if (!m || m.type !== BINDING_REQUEST) return null;
    const user = m.attributes.get(ATTR_USERNAME);
    if (!user || !user.toString('utf8').startsWith(this.prefix)) return null;
    if (!checkFingerprint(m) || !checkIntegrity(m, this.pwd)) return null;
    return { response: bindingSuccess(m.transactionId, address, port, this.pwd), nominated: m.attributes.has(ATTR_USE_CANDIDATE) };
  }
}
