import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtpPacket, SrtcpSession, SrtpSession } from 'werift-rtp';
import { clusterRelay, numSessions } from '../helpers/cluster.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { Relay } from '../helpers/Relay.js';
import { RtpEndpoint, rtcpPacket, rtpPacket } from '../helpers/RtpEndpoint.js';

function sdp(port: number, proto: string, extra: string[] = []): string {
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', `m=audio ${port} ${proto} 0`, 'c=IN IP4 127.0.0.1', 'a=sendrecv', `a=rtcp:${port}`, ...extra, ''].join('\r\n');
}

const mPort = (s: string): number => Number(/^m=audio (\d+)/m.exec(s)![1]);
const rtcpPort = (s: string): number => Number(/^a=rtcp:(\d+)/m.exec(s)![1]);

/** The key of the `a=crypto` line with this tag (or the first) in an SDP. */
function cryptoLine(s: string, tag?: number): { tag: number; suite: string; key: Buffer; salt: Buffer } {
  for (const m of s.matchAll(/^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/]+)/gm)) {
    if (tag !== undefined && Number(m[1]) !== tag) continue;
    const raw = Buffer.from(m[3]!, 'base64');
    const gcm = m[2]!.startsWith('AEAD');
    return { tag: Number(m[1]), suite: m[2]!, key: raw.subarray(0, 16), salt: raw.subarray(16, gcm ? 28 : 30) };
  }
  throw new Error(`no a=crypto${tag ? ':' + tag : ''} in\n${s}`);
}

const PROFILE: Record<string, number> = { AES_CM_128_HMAC_SHA1_80: 1, AEAD_AES_128_GCM: 7 };

/** A werift-rtp SRTP party: encrypts with its own key, decrypts with the relay's. */
function srtpParty(suite: string, own: { key: Buffer; salt: Buffer }, relay: { key: Buffer; salt: Buffer }): { rtp: SrtpSession; rtcp: SrtcpSession } {
  const keys = { localMasterKey: own.key, localMasterSalt: own.salt, remoteMasterKey: relay.key, remoteMasterSalt: relay.salt };
  return { rtp: new SrtpSession({ keys, profile: PROFILE[suite]! }), rtcp: new SrtcpSession({ keys, profile: PROFILE[suite]! }) };
}

const payload = (seq: number, from: string): Buffer => {
  const p = rtpPacket(seq, from === 'plain' ? 0x1111 : 0x2222);
  p.write(`${from}:${seq}`, 12);
  return p;
};

async function exchange(plain: RtpEndpoint, srtp: RtpEndpoint, party: ReturnType<typeof srtpParty>, plainSendsTo: [number, number], srtpSendsTo: [number, number], first: number): Promise<void> {
  const nP = plain.received.length;
  const nS = srtp.received.length;
  // Sequence numbers across a wrap: the relay's ROC tracking must follow.
  for (let i = 0; i < 12; i++) {
    const seq = (first + i) & 0xffff;
    plain.send(payload(seq, 'plain'), plainSendsTo[0], '127.0.0.1');
    const p = RtpPacket.deSerialize(payload(seq, 'srtp'));
    srtp.send(party.rtp.encrypt(p.payload, p.header), srtpSendsTo[0], '127.0.0.1');
  }
  plain.send(rtcpPacket(0x1111), plainSendsTo[1], '127.0.0.1');
  srtp.send(party.rtcp.encrypt(rtcpPacket(0x2222)), srtpSendsTo[1], '127.0.0.1');
  await plain.waitFor(nP + 13);
  await srtp.waitFor(nS + 13);
  const gotPlain = plain.received.slice(nP).map((r) => r.data);
  const gotSrtp = srtp.received.slice(nS).map((r) => r.data);
  const rtcpAtPlain = gotPlain.filter((d) => d[1] === 201);
  expect(rtcpAtPlain).toEqual([rtcpPacket(0x2222)]);
  expect(gotPlain.filter((d) => d[1] !== 201)).toEqual(Array.from({ length: 12 }, (_, i) => payload((first + i) & 0xffff, 'srtp')));
  const rtcpAtSrtp = gotSrtp.filter((d) => d[1] === 201);
  expect(rtcpAtSrtp.map((d) => party.rtcp.decrypt(d))).toEqual([rtcpPacket(0x1111)]);
  expect(gotSrtp.filter((d) => d[1] !== 201).map((d) => party.rtp.decrypt(d))).toEqual(Array.from({ length: 12 }, (_, i) => payload((first + i) & 0xffff, 'plain')));
}

for (const threads of [0, 2]) {
  describe(`SDES-SRTP relaying against werift-rtp (num-threads ${threads})`, () => {
    let relay: Relay;
    const eps: RtpEndpoint[] = [];
    beforeAll(async () => {
      relay = await Relay.start({ args: [`--num-threads=${threads}`, '--delete-delay=0'] });
    });
    afterAll(async () => {
      for (const e of eps) e.close();
      expect(await relay.stop()).toBe(0);
    });
    const open = async (): Promise<[RtpEndpoint, RtpEndpoint]> => {
      const a = await RtpEndpoint.open();
      const b = await RtpEndpoint.open();
      eps.push(a, b);
      return [a, b];
    };

    it('plain offerer, SDES answerer (RTP/AVP to RTP/SAVP), then a re-INVITE with a new key', async () => {
      const [plain, srtp] = await open();
      const callId = `sdes-out-${threads}`;
      const o = await relay.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdp(plain.port, 'RTP/AVP'), 'transport-protocol': 'RTP/SAVP', ICE: 'remove', DTLS: 'off' });
      const offered = String(o['sdp']);
      const relayKey = cryptoLine(offered, 7);
      expect(relayKey.suite).toBe('AES_CM_128_HMAC_SHA1_80');
      const own = { key: Buffer.alloc(16, 0x42), salt: Buffer.alloc(14, 0x43) };
      const line = `a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.concat([own.key, own.salt]).toString('base64')}`;
      const a = await relay.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(srtp.port, 'RTP/SAVP', [line]), ICE: 'remove' });
      const answered = String(a['sdp']);
      expect(answered).toMatch(/^m=audio \d+ RTP\/AVP 0$/m);
      expect(answered).not.toMatch(/a=crypto/);
      const party = srtpParty('AES_CM_128_HMAC_SHA1_80', own, relayKey);
      await exchange(plain, srtp, party, [mPort(answered), rtcpPort(answered)], [mPort(offered), rtcpPort(offered)], 65530);

      // Re-keying: the SRTP side re-INVITEs with a new key; the relay keeps its own.
      const own2 = { key: Buffer.alloc(16, 0x52), salt: Buffer.alloc(14, 0x53) };
      const line2 = `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.concat([own2.key, own2.salt]).toString('base64')}`;
      const ro = await relay.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'b', 'to-tag': 'a', sdp: sdp(srtp.port, 'RTP/SAVP', [line2]), 'transport-protocol': 'RTP/AVP', ICE: 'remove' });
      const ra = await relay.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'b', 'to-tag': 'a', sdp: sdp(plain.port, 'RTP/AVP'), ICE: 'remove' });
      const back = cryptoLine(String(ra['sdp']));
      expect(back.tag).toBe(1);
      expect(String(ro['sdp'])).not.toMatch(/a=crypto/);
      const party2 = srtpParty('AES_CM_128_HMAC_SHA1_80', own2, back);
      await exchange(plain, srtp, party2, [mPort(String(ro['sdp'])), rtcpPort(String(ro['sdp']))], [mPort(String(ra['sdp'])), rtcpPort(String(ra['sdp']))], 100);
    });

    it('SDES offerer (AEAD_AES_128_GCM), plain answerer (RTP/SAVP to RTP/AVP)', async () => {
      const [plain, srtp] = await open();
      const callId = `sdes-in-${threads}`;
      const own = { key: Buffer.alloc(16, 0x62), salt: Buffer.alloc(12, 0x63) };
      const line = `a=crypto:1 AEAD_AES_128_GCM inline:${Buffer.concat([own.key, own.salt]).toString('base64')}`;
      const o = await relay.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdp(srtp.port, 'RTP/SAVP', [line]), 'transport-protocol': 'RTP/AVP', ICE: 'remove', DTLS: 'off' });
      const offered = String(o['sdp']);
      expect(offered).not.toMatch(/a=crypto/);
      const a = await relay.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(plain.port, 'RTP/AVP'), ICE: 'remove' });
      const answered = String(a['sdp']);
      expect(answered).toMatch(/^m=audio \d+ RTP\/SAVP 0$/m);
      const relayKey = cryptoLine(answered, 1);
      expect(relayKey.suite).toBe('AEAD_AES_128_GCM');
      const party = srtpParty('AEAD_AES_128_GCM', own, relayKey);
      await exchange(plain, srtp, party, [mPort(offered), rtcpPort(offered)], [mPort(answered), rtcpPort(answered)], 4000);
    });
  });
}

// The SDES keys are in the call's Redis record: a relay restarted on its DB relays the call
// again with the same keys, without new signalling.
describe('SDES-SRTP call restored from Redis', () => {
  let redis: RedisServer;
  let relay: Relay;
  const eps: RtpEndpoint[] = [];
  beforeAll(async () => {
    redis = await RedisServer.start();
    relay = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'] });
  });
  afterAll(async () => {
    for (const e of eps) e.close();
    await relay?.stop();
    await redis?.stop();
  });

  it('keeps its keys across a SIGKILL and restart', async () => {
    const plain = await RtpEndpoint.open();
    const srtp = await RtpEndpoint.open();
    eps.push(plain, srtp);
    const callId = 'sdes-restore';
    const o = await relay.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdp(plain.port, 'RTP/AVP'), 'transport-protocol': 'RTP/SAVP', ICE: 'remove', DTLS: 'off' });
    const offered = String(o['sdp']);
    const relayKey = cryptoLine(offered, 7);
    const own = { key: Buffer.alloc(16, 0x72), salt: Buffer.alloc(14, 0x73) };
    const line = `a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.concat([own.key, own.salt]).toString('base64')}`;
    const a = await relay.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(srtp.port, 'RTP/SAVP', [line]), ICE: 'remove' });
    const answered = String(a['sdp']);
    const party = srtpParty('AES_CM_128_HMAC_SHA1_80', own, relayKey);
    const ports: [[number, number], [number, number]] = [[mPort(answered), rtcpPort(answered)], [mPort(offered), rtcpPort(offered)]];
    await exchange(plain, srtp, party, ports[0], ports[1], 100);
    await relay.stop('SIGKILL');
    relay = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'], portMin: relay.portMin, portMax: relay.portMax });
    expect(await numSessions(relay)).toEqual({ own: 1, foreign: 0, total: 1 });
    await exchange(plain, srtp, party, ports[0], ports[1], 200);
  });
});
