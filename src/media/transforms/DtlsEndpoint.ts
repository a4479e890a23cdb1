import { DtlsClient, DtlsServer, type DtlsSocket } from 'werift-dtls/lib/dtls/src/index.js';
import type { SrtpKeying } from '../MediaPlane.js';
import { fingerprintOf, isFingerprintHash } from './DtlsFingerprint.js';
import type { DtlsIdentity } from './DtlsIdentity.js';

/** DTLS-SRTP protection profiles (RFC 5764 4.1.2, RFC 7714 14.2) werift-dtls negotiates, by id. */
const PROFILES = new Map<number, { suite: string; key: number; salt: number }>([
  [1, { suite: 'AES_CM_128_HMAC_SHA1_80', key: 16, salt: 14 }],
  [7, { suite: 'AEAD_AES_128_GCM', key: 16, salt: 12 }],
]);

export type DtlsRole = 'client' | 'server';

/**
 * A ClientHello goes out in a record that says DTLS 1.0 (0xfeff), as OpenSSL (rtpengine) and
 * BoringSSL send it and RFC 6347 4.1 allows: a server that does not yet know our version reads
 * it either way. werift-dtls writes 0xfefd; the record header is not part of the handshake hash.
 */
function helloRecord(d: Buffer): Buffer {
  if (d.length < 14 || d[0] !== 22 || d[1] !== 0xfe || d[2] !== 0xfd || d[3] !== 0 || d[4] !== 0 || d[13] !== 1) return d;
  const out = Buffer.from(d);
  out[2] = 0xff;
  return out;
}

/** The SRTP keys a finished handshake exported (RFC 5764 4.2): ours to send, the peer's to receive. */
export interface DtlsKeys {
  send: SrtpKeying;
  recv: SrtpKeying;
}

/**
 * One DTLS association on a media port (RFC 5763/5764): werift-dtls does the handshake
 * (ECDHE-ECDSA or ECDHE-RSA by the certificate's key, AES-128-GCM, use_srtp, extended master
 * secret, retransmission by flights); this class feeds it the datagrams the leg demultiplexed
 * (first byte 20-63), sends what it writes to the peer, checks the peer's certificate against
 * the SDP fingerprint and hands over the exported SRTP keys.
 */
export class DtlsEndpoint {
  private readonly socket: DtlsSocket;
  /** werift-dtls replaces `onData` on this object with its own receiver. */
  private readonly transport: { onData: (data: Buffer, addr: unknown) => void };
  private started = false;
  private done = false;
  closed = false;

  constructor(
    readonly role: DtlsRole,
    identity: DtlsIdentity,
    /** The peer's `a=fingerprint` (hash, value) when its SDP gave one. */
    private readonly expected: { hash: string; value: string } | null,
    private readonly write: (data: Buffer) => void,
    private readonly onKeys: (keys: DtlsKeys) => void,
    private readonly onFailure: (reason: string) => void,
  ) {
    const transport = {
      type: 'udp',
      address: {},
      closed: false,
      onData: (_d: Buffer, _a: unknown): void => undefined,
      send: async (data: Buffer): Promise<void> => {
        if (!this.closed) this.write(helloRecord(data));
      },
      close: async (): Promise<void> => undefined,
    };
    this.transport = transport;
    const options = {
      transport: transport as never,
      cert: identity.certPem,
      key: identity.keyPem,
      // SHA-256 with the key's algorithm (TLS SignatureAlgorithm 1 = RSA, 3 = ECDSA).
      signatureHash: { hash: 4, signature: identity.keyType === 'rsa' ? 1 : 3 } as never,
      srtpProfiles: [7, 1] as never,
      certificateRequest: true,
      extendedMasterSecret: true,
    };
    this.socket = role === 'client' ? new DtlsClient(options) : new DtlsServer(options);
    this.socket.onConnect.subscribe(() => this.established());
    this.socket.onError.subscribe((e: Error) => this.onFailure(e.message));
  }

  get connected(): boolean {
    return this.done;
  }

  /** The client sends its ClientHello (once the peer's address is known); the server waits. */
  start(): void {
    if (this.started || this.closed || this.role !== 'client') return;
    this.started = true;
    (this.socket as DtlsClient).connect().catch((e: Error) => this.onFailure(e.message));
  }

  /** A DTLS record from the peer. */
  receive(data: Buffer): void {
    if (this.closed) return;
    this.transport.onData(data, {});
  }

  private established(): void {
    if (this.done || this.closed) return;
    const cert = this.socket.remoteCertificate;
    if (this.expected && cert) {
      const hash = this.expected.hash.toLowerCase();
      if (!isFingerprintHash(hash) || fingerprintOf(cert, hash) !== this.expected.value.toUpperCase()) {
        this.onFailure('peer certificate does not match the SDP fingerprint');
        return;
      }
    }
    const profile = PROFILES.get(this.socket.srtp.srtpProfile ?? 0);
    if (!profile) {
      this.onFailure('no SRTP profile negotiated');
      return;
    }
    this.done = true;
    const k = this.socket.extractSessionKeys(profile.key, profile.salt) as { localKey: Buffer; localSalt: Buffer; remoteKey: Buffer; remoteSalt: Buffer };
    this.onKeys({
      send: { suite: profile.suite, key: k.localKey, salt: k.localSalt },
      recv: { suite: profile.suite, key: k.remoteKey, salt: k.remoteSalt },
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close();
    } catch {
      /* already down */
    }
  }
}
