import { RtpPacket, SrtpSession } from 'werift-rtp';
import { DtlsEndpoint, type DtlsKeys } from '../../src/media/transforms/DtlsEndpoint.js';
import type { FingerprintHash } from '../../src/media/transforms/DtlsFingerprint.js';
import { createIdentity } from '../../src/media/transforms/DtlsIdentity.js';
import type { Relay } from './Relay.js';
import { RtpEndpoint, rtpPacket } from './RtpEndpoint.js';

function sdp(port: number, proto: string, extra: string[] = []): string {
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', `m=audio ${port} ${proto} 0`, 'c=IN IP4 127.0.0.1', 'a=sendrecv', `a=rtcp:${port}`, ...extra, ''].join('\r\n');
}

const mPort = (s: string): number => Number(/^m=audio (\d+)/m.exec(s)![1]);

/** The relay's key from the `a=crypto` line with this tag. */
function relayKey(s: string, tag: number): { key: Buffer; salt: Buffer } {
  const m = new RegExp(`^a=crypto:${tag} AES_CM_128_HMAC_SHA1_80 inline:([A-Za-z0-9+/]+)`, 'm').exec(s);
  if (!m) throw new Error(`no a=crypto:${tag} AES_CM_128_HMAC_SHA1_80 in\n${s}`);
  const raw = Buffer.from(m[1]!, 'base64');
  return { key: raw.subarray(0, 16), salt: raw.subarray(16, 30) };
}

/** Feeds the DTLS records `at` receives to the endpoint `make` builds until its handshake exports keys (5 s at most). */
async function handshake(at: RtpEndpoint, make: (onKeys: (k: DtlsKeys) => void, onFailure: (why: string) => void) => DtlsEndpoint): Promise<DtlsKeys> {
  let keys: DtlsKeys | null = null;
  let failure: string | null = null;
  const ep = make((k) => (keys = k), (why) => (failure = why));
  ep.start();
  const deadline = Date.now() + 5000;
  let fed = 0;
  while (keys === null) {
    if (failure !== null) throw new Error(`DTLS handshake failed: ${failure}`);
    if (Date.now() > deadline) throw new Error(`no DTLS handshake within 5 s (${at.received.length} datagrams arrived)`);
    for (; fed < at.received.length; fed++) {
      const d = at.received[fed]!.data;
      if (d[0]! >= 20 && d[0]! <= 63) ep.receive(d);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return keys as DtlsKeys;
}

export const PLAIN_SSRC = 0x1111;
export const SRTP_SSRC = 0x2222;

/** The payload both sides send: who sent it and its sequence number, so what arrives can be compared byte for byte. */
export function sdesPayload(seq: number, from: 'plain' | 'srtp'): Buffer {
  const p = rtpPacket(seq, from === 'plain' ? PLAIN_SSRC : SRTP_SSRC);
  p.write(`${from}:${seq}`, 12);
  return p;
}

/** What arrived of a run of packets: counted only when byte for byte what was sent (after the party's decryption). */
export interface Delivered {
  atPlain: number;
  atSrtp: number;
}

/**
 * An SDES call through a relay (RTP/AVP offerer, RTP/SAVP answerer with
 * AES_CM_128_HMAC_SHA1_80), its SRTP party played by werift-rtp (an independent SRTP that
 * keeps its own rollover counters), its plain party by a UDP socket.
 */
export class SdesCall {
  /** The relay's address both parties send to (another relay's, for a takeover). */
  relayAddress = '127.0.0.1';

  private constructor(
    readonly callId: string,
    readonly plain: RtpEndpoint,
    readonly srtp: RtpEndpoint,
    /** Where the plain party sends (the relay's port in the answer). */
    readonly plainTo: number,
    /** Where the SRTP party sends (the relay's port in the offer). */
    readonly srtpTo: number,
    readonly party: SrtpSession,
  ) {}

  static async place(relay: Relay, callId: string): Promise<SdesCall> {
    const plain = await RtpEndpoint.open();
    const srtp = await RtpEndpoint.open();
    const o = await relay.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdp(plain.port, 'RTP/AVP'), 'transport-protocol': 'RTP/SAVP', ICE: 'remove', DTLS: 'off' });
    const offered = String(o['sdp']);
    const own = { key: Buffer.alloc(16, 0x42), salt: Buffer.alloc(14, 0x43) };
    const line = `a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.concat([own.key, own.salt]).toString('base64')}`;
    const a = await relay.ng.ok({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(srtp.port, 'RTP/SAVP', [line]), ICE: 'remove' });
    const theirs = relayKey(offered, 7);
    const keys = { localMasterKey: own.key, localMasterSalt: own.salt, remoteMasterKey: theirs.key, remoteMasterSalt: theirs.salt };
    return new SdesCall(callId, plain, srtp, mPort(String(a['sdp'])), mPort(offered), new SrtpSession({ keys, profile: 1 }));
  }

  /**
   * A DTLS-SRTP call: a plain party offers, the relay offers UDP/TLS/RTP/SAVP (`actpass`) to the
   * SRTP party, which answers with its own certificate (no ICE) and shakes hands, played by
   * werift-dtls: as the client (`a=setup:active`, the default) or as the server
   * (`a=setup:passive`: the relay is the client and starts); the keys it exports then drive
   * werift-rtp. `hash` is the hash of the party's `a=fingerprint`.
   */
  static async placeDtls(relay: Relay, callId: string, peer: 'client' | 'server' = 'client', hash: FingerprintHash = 'sha-256'): Promise<SdesCall> {
    const plain = await RtpEndpoint.open();
    const srtp = await RtpEndpoint.open();
    const identity = await createIdentity();
    const o = await relay.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdp(plain.port, 'RTP/AVP'), 'transport-protocol': 'UDP/TLS/RTP/SAVP', ICE: 'remove' });
    const offered = String(o['sdp']);
    const fp = /^a=fingerprint:sha-256 ([0-9A-F:]+)$/m.exec(offered)![1]!;
    const own = [`a=fingerprint:${hash} ${identity.fingerprints[hash]}`, `a=setup:${peer === 'client' ? 'active' : 'passive'}`];
    const srtpTo = mPort(offered);
    const write = (d: Buffer): void => srtp.send(d, srtpTo, '127.0.0.1');
    const answer = relay.ng.ok({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(srtp.port, 'UDP/TLS/RTP/SAVP', own) });
    // A server must be listening before the relay's ClientHello arrives: the handshake starts with the answer.
    const shaking = handshake(srtp, (onKeys, onFailure) => new DtlsEndpoint(peer, identity, { hash: 'sha-256', value: fp }, write, onKeys, onFailure));
    const a = await answer;
    const keys = await shaking;
    const profile = keys.send.suite === 'AEAD_AES_128_GCM' ? 7 : 1;
    const session = new SrtpSession({ keys: { localMasterKey: Buffer.from(keys.send.key), localMasterSalt: Buffer.from(keys.send.salt), remoteMasterKey: Buffer.from(keys.recv.key), remoteMasterSalt: Buffer.from(keys.recv.salt) }, profile });
    const call = new SdesCall(callId, plain, srtp, mPort(String(a['sdp'])), srtpTo, session);
    // A server is done once it sent its Finished; the relay (client) once that arrived: wait for its keys.
    if (peer === 'server') await call.relaying();
    return call;
  }

  /** Resolves once a plain packet reaches the SRTP party encrypted (5 s at most): the relay has its keys. */
  private async relaying(): Promise<void> {
    const deadline = Date.now() + 5000;
    for (let seq = 1; Date.now() < deadline; seq++) {
      const n = this.srtp.received.length;
      this.plain.send(sdesPayload(seq, 'plain'), this.plainTo, this.relayAddress);
      await new Promise((r) => setTimeout(r, 20));
      if (this.srtp.received.slice(n).some((r) => r.data[0]! >= 128 && r.data[0]! <= 191)) return;
    }
    throw new Error('the relay relays nothing to the DTLS party within 5 s');
  }

  /**
   * Both parties send `count` packets from sequence number `first` on (wrapping at 65536),
   * paced in small bursts; resolves with how many arrived intact once all did or `waitMs` passed.
   */
  async stream(first: number, count: number, waitMs = 3000): Promise<Delivered> {
    const nP = this.plain.received.length;
    const nS = this.srtp.received.length;
    for (let i = 0; i < count; i++) {
      const seq = (first + i) & 0xffff;
      this.plain.send(sdesPayload(seq, 'plain'), this.plainTo, this.relayAddress);
      const p = RtpPacket.deSerialize(sdesPayload(seq, 'srtp'));
      this.srtp.send(this.party.encrypt(p.payload, p.header), this.srtpTo, this.relayAddress);
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = Date.now() + waitMs;
    while ((this.plain.received.length < nP + count || this.srtp.received.length < nS + count) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const want = (from: 'plain' | 'srtp'): Set<string> => new Set(Array.from({ length: count }, (_, i) => sdesPayload((first + i) & 0xffff, from).toString('hex')));
    const fromSrtp = want('srtp');
    const fromPlain = want('plain');
    let atPlain = 0;
    for (const r of this.plain.received.slice(nP)) if (fromSrtp.delete(r.data.toString('hex'))) atPlain++;
    let atSrtp = 0;
    for (const r of this.srtp.received.slice(nS)) {
      let plain: Buffer;
      try {
        plain = this.party.decrypt(r.data);
      } catch {
        continue;
      }
      if (fromPlain.delete(plain.toString('hex'))) atSrtp++;
    }
    return { atPlain, atSrtp };
  }

  close(): void {
    this.plain.close();
    this.srtp.close();
  }
}
