import {
  ATTR_ICE_CONTROLLED, ATTR_ICE_CONTROLLING, ATTR_PRIORITY, ATTR_SOFTWARE, ATTR_USE_CANDIDATE, ATTR_USERNAME, BINDING_ERROR, BINDING_REQUEST, BINDING_SUCCESS,
  bindingError, bindingRequest, bindingSuccess, checkFingerprint, checkIntegrity, errorCode, parseStun,
} from '../../src/media/transforms/Stun.js';
import { localUdp, type UdpPeer, type UdpPort } from './UdpPort.js';

/** A check the relay sent to the test peer, as the peer saw it. */
export interface SeenCheck {
  from: UdpPeer;
  username: string;
  role: 'controlling' | 'controlled';
  tieBreaker: Buffer;
  priority: number;
  useCandidate: boolean;
  software: string;
}

/**
 * The far side of an ICE call in tests: a small agent on a real UDP socket. It answers the
 * relay's checks (or not, or with 487), sends its own checks (maybe nominating), and records
 * what came: checks, responses to its checks, and media.
 */
export class IcePeer {
  readonly checks: SeenCheck[] = [];
  readonly responses: { type: number; code: number; from: UdpPeer }[] = [];
  readonly media: { data: Buffer; from: UdpPeer }[] = [];
  /** Answer the relay's checks (false: stay silent, as a peer behind a NAT that has not opened yet). */
  answering = true;
  /** Answer checks in this role with 487 when our tie-breaker is larger (null: never). */
  conflictRole: 'controlling' | 'controlled' | null = null;
  tieBreaker = Buffer.alloc(8, 0x11);
  /** The relay's credentials, from its SDP. */
  relay = { ufrag: '', pwd: '' };
  private seq = 0;

  private constructor(
    readonly socket: UdpPort,
    readonly ufrag: string,
    readonly pwd: string,
  ) {
    socket.onMessage((data, from) => this.receive(data, from));
  }

  static async open(ufrag: string, pwd: string, address = '127.0.0.1'): Promise<IcePeer> {
    return new IcePeer(await localUdp(address), ufrag, pwd);
  }

  get port(): number {
    return this.socket.port;
  }

  /** The relay's address this peer talks to: loopback of its socket's family. */
  get relayAddress(): string {
    return this.socket.address.includes(':') ? '::1' : '127.0.0.1';
  }

  /** The SDP lines of this peer's ICE (one host candidate per component on this socket, or on `candidatePort`). */
  sdpLines(candidatePort = this.port, lite = false): string[] {
    return [
      `a=ice-ufrag:${this.ufrag}`, `a=ice-pwd:${this.pwd}`,
      `a=candidate:peer1 1 UDP 2130706431 ${this.socket.address} ${candidatePort} typ host`,
      ...(lite ? ['a=ice-lite'] : []),
    ];
  }

  /** Learns the relay's credentials from an SDP it wrote. */
  takeRelay(sdp: string): void {
    this.relay = { ufrag: /^a=ice-ufrag:(\S+)/m.exec(sdp)![1]!, pwd: /^a=ice-pwd:(\S+)/m.exec(sdp)![1]! };
  }

  /** A connectivity check to the relay's port (on `address`: one of its candidates) from this socket. */
  check(port: number, role: 'controlling' | 'controlled', useCandidate: boolean, tieBreaker = this.tieBreaker, address = this.relayAddress): void {
    const tid = Buffer.alloc(12);
    tid.write(`peer${String(this.seq++).padStart(8, '0')}`, 'latin1');
    this.socket.send(bindingRequest(tid, `${this.relay.ufrag}:${this.ufrag}`, role === 'controlling', tieBreaker, 0x6e7f1eff, useCandidate, this.relay.pwd), port, address);
  }

  send(data: Buffer, port: number, address = this.relayAddress): void {
    this.socket.send(data, port, address);
  }

  /** Waits until `cond` holds (checked as packets arrive), or throws after `ms`. */
  async until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`ICE peer: no ${what} (checks ${this.checks.length}, responses ${this.responses.length}, media ${this.media.length})`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.socket.close();
  }

  private receive(data: Buffer, from: UdpPeer): void {
    const m = data[0]! < 4 ? parseStun(data) : null;
    if (m === null) {
      this.media.push({ data, from });
      return;
    }
    if (m.type === BINDING_SUCCESS || m.type === BINDING_ERROR) {
      if (checkFingerprint(m) && checkIntegrity(m, this.relay.pwd)) this.responses.push({ type: m.type, code: errorCode(m), from });
      return;
    }
    if (m.type !== BINDING_REQUEST || !checkFingerprint(m) || !checkIntegrity(m, this.pwd)) return;
    const controlling = m.attributes.get(ATTR_ICE_CONTROLLING);
    const seen: SeenCheck = {
      from,
      username: m.attributes.get(ATTR_USERNAME)!.toString(),
      role: controlling ? 'controlling' : 'controlled',
      tieBreaker: Buffer.from(controlling ?? m.attributes.get(ATTR_ICE_CONTROLLED)!),
      priority: m.attributes.get(ATTR_PRIORITY)!.readUInt32BE(0),
      useCandidate: m.attributes.has(ATTR_USE_CANDIDATE),
      software: m.attributes.get(ATTR_SOFTWARE)?.toString() ?? '',
    };
    this.checks.push(seen);
    if (this.conflictRole === seen.role && Buffer.compare(this.tieBreaker, seen.tieBreaker) > 0) {
      this.socket.send(bindingError(m.transactionId, 487, 'Role conflict', this.pwd), from.port, from.address);
      return;
    }
    if (this.answering) this.socket.send(bindingSuccess(m.transactionId, from.address, from.port, this.pwd), from.port, from.address);
  }
}
