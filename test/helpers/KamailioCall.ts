import { expect } from 'vitest';
import type { Kamailio } from './Kamailio.js';
import { MediaPair } from './MediaPair.js';
import type { SipMessage } from './SipMessage.js';
import { SipUserAgent } from './SipUserAgent.js';
import { audioSdp, readSdp } from './sdp.js';
import type { UdpOpener } from './UdpPort.js';

// Phones' media on their own loopback addresses, so "points at the relay" means something.
export const CALLER_IP = '127.0.0.2';
export const CALLEE_IP = '127.0.0.3';
const ICE = ['a=ice-ufrag:e2eufrag', 'a=ice-pwd:e2epassword0123456789abcd', `a=candidate:1 1 UDP 2130706431 ${CALLER_IP} 45000 typ host`];

/** A phone's SDP; `version` is the o= session version a re-INVITE bumps. */
function phoneSdp(who: string, media: MediaPair, version: number, direction = 'sendrecv', extra: string[] = []): string {
  // fmtp and ptime as real phones send them (rtpengine moves ptime behind its a=rtcp).
  const attrs = ['a=fmtp:101 0-16', 'a=ptime:20', ...extra];
  return audioSdp(media.address, media.port, { origin: who, direction, extra: attrs }).replace(' 1234 1 IN', ` 1234 ${version} IN`);
}

export interface RelayedMedia {
  address: string;
  rtpPort: number;
  rtcpPort: number;
  direction?: string;
  sdp: string;
  lines: string[];
}

/** What the relay put into an SDP that Kamailio delivered. */
function relayed(msg: SipMessage): RelayedMedia {
  expect(msg.header('content-type')).toBe('application/sdp');
  const sdp = readSdp(msg.body);
  expect(sdp.medias).toHaveLength(1);
  const m = sdp.medias[0]!;
  return { address: m.address!, rtpPort: m.port, rtcpPort: m.rtcpPort ?? m.port + 1, direction: m.direction, sdp: msg.body, lines: sdp.lines };
}

export interface KamailioCallResult {
  callId: string;
  aliceTag: string;
  bobTag: string;
  /** Every SDP a phone received, by step ("INVITE to bob", "200 to alice", ...). */
  sdps: Array<{ step: string; media: RelayedMedia }>;
  /** RTP packets / RTCP reports each phone sent. */
  sent: { rtp: number; rtcp: number };
  /** The phones while the call is up (for `beforeBye`): SIP agents, media sockets, and where each sends its media. */
  phones: { alice: SipUserAgent; bob: SipUserAgent; aMedia: MediaPair; bMedia: MediaPair; toAlice: RelayedMedia; toBob: RelayedMedia };
}

export interface KamailioCallSetup {
  kamailio: Kamailio;
  /**
   * The relay's media address and port range; for a cluster, the addresses of its nodes: the
   * call's SDP may name any one of them (its owner), and must name that one throughout.
   */
  relay: { address: string | readonly string[]; portMin: number; portMax: number };
  /** Where the phones' sockets live (default: this process; a NetnsAgent's for a namespace). */
  open?: UdpOpener;
  /** Runs while the call is up, before the BYE (e.g. an NG query). */
  beforeBye?: (call: KamailioCallResult) => Promise<void>;
}

/**
 * One call through Kamailio and the relay, checked at every step: INVITE with ICE candidates,
 * 200, ACK, media both ways; hold (sendonly) and resume; a callee re-INVITE; BYE and 200.
 * Each phone must get SDP pointing at the relay, with the same relay ports throughout, and
 * hear the other's RTP and RTCP from those ports.
 */
export async function placeKamailioCall(o: KamailioCallSetup): Promise<KamailioCallResult> {
  const alice = await SipUserAgent.open('alice', undefined, o.open);
  const bob = await SipUserAgent.open('bob', undefined, o.open);
  const aMedia = await MediaPair.open(CALLER_IP, 0xa11ce, o.open);
  const bMedia = await MediaPair.open(CALLEE_IP, 0xb0b, o.open);
  const relayAddresses = typeof o.relay.address === 'string' ? [o.relay.address] : o.relay.address;
  try {
    const kam = { address: '127.0.0.1', port: o.kamailio.sipPort };
    const sdps: KamailioCallResult['sdps'] = [];
    const sent = { rtp: 0, rtcp: 0 };
    const got = (step: string, msg: SipMessage): RelayedMedia => {
      const media = relayed(msg);
      sdps.push({ step, media });
      return media;
    };

    /** Sends `n` packets each way and checks both sides got them from the relay's ports for that side. */
    const mediaBothWays = async (toAlice: RelayedMedia, toBob: RelayedMedia, n: number): Promise<void> => {
      const before = [aMedia.rtp, aMedia.rtcp, bMedia.rtp, bMedia.rtcp].map((e) => e.received.length);
      aMedia.send(n, toAlice);
      bMedia.send(n, toBob);
      sent.rtp += n;
      sent.rtcp += 1;
      const atBob = (await bMedia.rtp.waitFor(before[2]! + n)).slice(before[2]);
      const atAlice = (await aMedia.rtp.waitFor(before[0]! + n)).slice(before[0]);
      const rtcpAtBob = (await bMedia.rtcp.waitFor(before[3]! + 1)).slice(before[3]);
      const rtcpAtAlice = (await aMedia.rtcp.waitFor(before[1]! + 1)).slice(before[1]);
      // Each phone hears the other's SSRC, from the relay port it sends its own media to.
      expect(atBob.map((p) => p.data.readUInt32BE(8))).toEqual(Array(n).fill(aMedia.ssrc));
      expect(atAlice.map((p) => p.data.readUInt32BE(8))).toEqual(Array(n).fill(bMedia.ssrc));
      expect(atBob.every((p) => p.address === toBob.address && p.port === toBob.rtpPort)).toBe(true);
      expect(atAlice.every((p) => p.address === toAlice.address && p.port === toAlice.rtpPort)).toBe(true);
      expect(rtcpAtBob[0]!.data[1]).toBe(201);
      expect(rtcpAtBob[0]!.data.readUInt32BE(4)).toBe(aMedia.ssrc);
      expect(rtcpAtBob[0]!.port).toBe(toBob.rtcpPort);
      expect(rtcpAtAlice[0]!.data.readUInt32BE(4)).toBe(bMedia.ssrc);
      expect(rtcpAtAlice[0]!.port).toBe(toAlice.rtcpPort);
    };

    // Initial INVITE with ICE candidates; Kamailio offers it to the relay and forwards the result.
    const inviting = alice.invite(`sip:bob@127.0.0.1:${bob.port}`, kam, phoneSdp('alice', aMedia, 1, 'sendrecv', ICE));
    const invite = await bob.nextRequest('INVITE');
    const toBob = got('INVITE to bob', invite);
    expect(relayAddresses).toContain(toBob.address);
    const relay = toBob.address;
    expect(toBob.rtpPort).toBeGreaterThanOrEqual(o.relay.portMin);
    expect(toBob.rtpPort).toBeLessThanOrEqual(o.relay.portMax);
    expect(toBob.rtcpPort).toBe(toBob.rtpPort + 1);
    expect(toBob.lines).toContain(`o=alice 1234 1 IN IP4 ${relay}`);
    expect(toBob.lines.filter((l) => /^a=(ice-|candidate)/.test(l))).toEqual([]);
    expect(invite.all('record-route')).toEqual([expect.stringMatching(new RegExp(`^<sip:127\\.0\\.0\\.1:${o.kamailio.sipPort};lr[;>]`))]);

    bob.respond(invite, 200, phoneSdp('bob', bMedia, 1));
    const ok = await inviting;
    expect(ok.status).toBe(200);
    const toAlice = got('200 to alice', ok);
    expect(toAlice.address).toBe(relay);
    expect(toAlice.rtpPort).toBeGreaterThanOrEqual(o.relay.portMin);
    expect(toAlice.rtpPort).toBeLessThanOrEqual(o.relay.portMax);
    expect(toAlice.rtpPort).not.toBe(toBob.rtpPort);
    expect(toAlice.lines).toContain(`o=bob 1234 1 IN IP4 ${relay}`);
    await bob.nextRequest('ACK');
    await mediaBothWays(toAlice, toBob, 5);

    // Hold (sendonly) and resume: the relay keeps its ports.
    const holding = alice.request('INVITE', phoneSdp('alice', aMedia, 2, 'sendonly'));
    const hold = got('hold re-INVITE to bob', await bob.answer('INVITE', 200, phoneSdp('bob', bMedia, 2, 'recvonly')));
    const held = got('hold 200 to alice', await holding);
    await bob.nextRequest('ACK');
    expect([hold.rtpPort, hold.direction]).toEqual([toBob.rtpPort, 'sendonly']);
    expect([held.rtpPort, held.direction]).toEqual([toAlice.rtpPort, 'recvonly']);

    const resuming = alice.request('INVITE', phoneSdp('alice', aMedia, 3));
    const resume = got('resume re-INVITE to bob', await bob.answer('INVITE', 200, phoneSdp('bob', bMedia, 3)));
    const resumed = got('resume 200 to alice', await resuming);
    await bob.nextRequest('ACK');
    expect([resume.rtpPort, resume.direction]).toEqual([toBob.rtpPort, 'sendrecv']);
    expect([resumed.rtpPort, resumed.direction]).toEqual([toAlice.rtpPort, 'sendrecv']);
    await mediaBothWays(toAlice, toBob, 5);

    // The callee re-INVITEs: Kamailio sends its tag as from-tag; the relay finds the same parties.
    const reinviting = bob.request('INVITE', phoneSdp('bob', bMedia, 4));
    const reoffer = got('callee re-INVITE to alice', await alice.answer('INVITE', 200, phoneSdp('alice', aMedia, 4)));
    const reanswer = got('callee re-INVITE 200 to bob', await reinviting);
    await alice.nextRequest('ACK');
    expect(reoffer.rtpPort).toBe(toAlice.rtpPort);
    expect(reanswer.rtpPort).toBe(toBob.rtpPort);
    await mediaBothWays(toAlice, toBob, 5);

    const phones = { alice, bob, aMedia, bMedia, toAlice, toBob };
    const result: KamailioCallResult = { callId: invite.callId, aliceTag: alice.dialog!.localTag, bobTag: bob.dialog!.localTag, sdps, sent, phones };
    await o.beforeBye?.(result);

    // BYE: Kamailio deletes the call on the relay before forwarding it.
    const bye = alice.request('BYE');
    await bob.answer('BYE', 200);
    expect((await bye).status).toBe(200);
    return result;
  } finally {
    for (const x of [alice, bob, aMedia, bMedia]) x.close();
  }
}
