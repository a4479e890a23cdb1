import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtpPacket, SrtpSession } from 'werift-rtp';
import { Relay } from '../helpers/Relay.js';
import { RtpEndpoint, rtpPacket } from '../helpers/RtpEndpoint.js';
import { SdesCall } from '../helpers/SdesCall.js';

function sdp(port: number, proto: string, extra: string[] = []): string {
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', `m=audio ${port} ${proto} 0`, 'c=IN IP4 127.0.0.1', 'a=sendrecv', `a=rtcp:${port}`, ...extra, ''].join('\r\n');
}
const mPort = (s: string): number => Number(/^m=audio (\d+)/m.exec(s)![1]);

const payload = (seq: number, from: string): Buffer => {
  const p = rtpPacket(seq, from === 'plain' ? 0x1111 : 0x2222);
  p.write(`${from}:${seq}`, 12);
  return p;
};

/** AES_CM_128_HMAC_SHA1_80's tag: the MKI goes before it (RFC 3711 3.1). */
const TAG = 10;
const MKI = Buffer.from([0, 0, 0, 5]);

// The SRTP and DTLS keying rtpengine 10.5 offers beyond plain SDES: keys with an MKI and a
// lifetime, the relay as the DTLS client, fingerprints under other hashes. One relay.
describe('SRTP keying: MKI, key lifetimes, DTLS roles and fingerprint hashes', () => {
  let relay: Relay;
  const calls: SdesCall[] = [];
  const eps: RtpEndpoint[] = [];
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    for (const c of calls) c.close();
    for (const e of eps) e.close();
    expect(await relay.stop()).toBe(0);
  });

  it('relays packets that carry the MKI of a key with a lifetime, both ways, payloads intact', async () => {
    const plain = await RtpEndpoint.open();
    const srtp = await RtpEndpoint.open();
    eps.push(plain, srtp);
    const o = await relay.ng.ok({ command: 'offer', 'call-id': 'mki', 'from-tag': 'a', sdp: sdp(plain.port, 'RTP/AVP'), 'transport-protocol': 'RTP/SAVP', ICE: 'remove', DTLS: 'off' });
    const offered = String(o['sdp']);
    const relayKey = Buffer.from(/^a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:(\S+)$/m.exec(offered)![1]!, 'base64');
    const own = Buffer.concat([Buffer.alloc(16, 0x51), Buffer.alloc(14, 0x52)]);
    const line = `a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${own.toString('base64')}|2^31|5:4`;
    const a = await relay.ng.ok({ command: 'answer', 'call-id': 'mki', 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(srtp.port, 'RTP/SAVP', [line]), ICE: 'remove', DTLS: 'off' });
    expect(String(a['sdp'])).not.toMatch(/a=crypto/);
    const party = new SrtpSession({
      keys: { localMasterKey: own.subarray(0, 16), localMasterSalt: own.subarray(16), remoteMasterKey: relayKey.subarray(0, 16), remoteMasterSalt: relayKey.subarray(16, 30) },
      profile: 1,
    });
    const plainTo = mPort(String(a['sdp']));
    const srtpTo = mPort(offered);
    for (let seq = 100; seq < 110; seq++) {
      plain.send(payload(seq, 'plain'), plainTo, '127.0.0.1');
      const p = RtpPacket.deSerialize(payload(seq, 'srtp'));
      const enc = party.encrypt(p.payload, p.header);
      // Independently made: werift's packet with the MKI put in before its tag.
      srtp.send(Buffer.concat([enc.subarray(0, enc.length - TAG), MKI, enc.subarray(enc.length - TAG)]), srtpTo, '127.0.0.1');
    }
    await plain.waitFor(10);
    await srtp.waitFor(10);
    expect(plain.received.map((r) => r.data)).toEqual(Array.from({ length: 10 }, (_, i) => payload(100 + i, 'srtp')));
    // The relay's own key has no MKI: what it sends is plain SRTP.
    expect(srtp.received.map((r) => party.decrypt(r.data))).toEqual(Array.from({ length: 10 }, (_, i) => payload(100 + i, 'plain')));
  });

  it('shakes hands as the DTLS client with a werift-dtls server and relays media both ways', async () => {
    const call = await SdesCall.placeDtls(relay, 'dtls-client', 'server');
    calls.push(call);
    expect(await call.stream(1000, 50)).toEqual({ atPlain: 50, atSrtp: 50 });
  });

  it("offers an ECDSA P-256 certificate signed with SHA-256 by default, as rtpengine 10.5's", async () => {
    const call = await SdesCall.placeDtls(relay, 'cert-default');
    calls.push(call);
    const cert = peerCertificate(call.srtp.received.map((r) => r.data));
    expect(cert.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(cert.raw.includes(OID_ECDSA_SHA256)).toBe(true);
  });

  it('checks a peer certificate against a sha-384 fingerprint, and sha-1 with the relay as client', async () => {
    const server = await SdesCall.placeDtls(relay, 'dtls-sha384', 'client', 'sha-384');
    const client = await SdesCall.placeDtls(relay, 'dtls-sha1', 'server', 'sha-1');
    calls.push(server, client);
    expect(await server.stream(2000, 20)).toEqual({ atPlain: 20, atSrtp: 20 });
    expect(await client.stream(3000, 20)).toEqual({ atPlain: 20, atSrtp: 20 });
  });
});

/** The certificate in the DTLS Certificate message (handshake type 11, epoch 0) among the datagrams a party got. */
function peerCertificate(datagrams: Buffer[]): X509Certificate {
  for (const d of datagrams) {
    for (let o = 0; o + 13 <= d.length;) {
      const record = d.subarray(o + 13, o + 13 + d.readUInt16BE(o + 11));
      o += 13 + record.length;
      // Handshake header (12 bytes), the list's length (3), the first certificate's length (3).
      if (d[o - 13 - record.length] === 22 && record[0] === 11) return new X509Certificate(record.subarray(18, 18 + record.readUIntBE(15, 3)));
    }
  }
  throw new Error('no Certificate message among the datagrams');
}

const OID_ECDSA_SHA256 = Buffer.from('06082a8648ce3d040302', 'hex');
const OID_RSA_SHA1 = Buffer.from('06092a864886f70d010105', 'hex');

describe('the DTLS certificate as configured: dtls-cert-cipher, dtls-rsa-key-size, dtls-signature', () => {
  const calls: SdesCall[] = [];
  afterAll(() => {
    for (const c of calls) c.close();
  });

  it('is an RSA key of the configured size signed with SHA-1 when configured so, both DTLS roles', async () => {
    const relay = await Relay.start({ args: ['--dtls-cert-cipher=RSA', '--dtls-rsa-key-size=1024', '--dtls-signature=sha-1'] });
    try {
      // The party as client (the relay serves), then as server (the relay is the client).
      for (const peer of ['client', 'server'] as const) {
        const call = await SdesCall.placeDtls(relay, `cert-rsa-${peer}`, peer);
        calls.push(call);
        const cert = peerCertificate(call.srtp.received.map((r) => r.data));
        expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
        expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(1024);
        expect(cert.raw.includes(OID_RSA_SHA1)).toBe(true);
        expect(cert.verify(cert.publicKey)).toBe(true);
        expect(await call.stream(200, 10)).toEqual({ atPlain: 10, atSrtp: 10 });
      }
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });
});
