import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kamailio } from '../helpers/Kamailio.js';
import { MediaPair } from '../helpers/MediaPair.js';
import { Relay, waitFor } from '../helpers/Relay.js';
import type { SipMessage } from '../helpers/SipMessage.js';
import { SipUserAgent } from '../helpers/SipUserAgent.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';

// Phones' media on their own loopback addresses, so "points at the relay" means something.
const RELAY_IP = '127.0.0.1';
const CALLER_IP = '127.0.0.2';
const CALLEE_IP = '127.0.0.3';
const ICE = [
  'a=ice-ufrag:e2eufrag',
  'a=ice-pwd:e2epassword0123456789abcd',
  'a=candidate:1 1 UDP 2130706431 127.0.0.2 45000 typ host',
];

/** A phone's SDP; `version` is the o= session version a re-INVITE bumps. */
function phoneSdp(who: string, media: MediaPair, version: number, direction = 'sendrecv', extra: string[] = []): string {
  return audioSdp(media.address, media.port, { origin: who, direction, extra }).replace(' 1234 1 IN', ` 1234 ${version} IN`);
}

interface RelayedMedia {
  address: string;
  rtpPort: number;
  rtcpPort: number;
  direction?: string;
  lines: string[];
}

/** What the relay put into an SDP that Kamailio delivered. */
function relayed(msg: SipMessage): RelayedMedia {
  expect(msg.header('content-type')).toBe('application/sdp');
  const sdp = readSdp(msg.body);
  expect(sdp.medias).toHaveLength(1);
  const m = sdp.medias[0]!;
  return { address: m.address!, rtpPort: m.port, rtcpPort: m.rtcpPort ?? m.port + 1, direction: m.direction, lines: sdp.lines };
}

interface NgLogLine {
  msg: string;
  cookie: string;
  from: string;
  command: string;
  callId?: string;
  keys: string[];
}

describe('an unmodified Kamailio driving ngrelay', () => {
  let relay: Relay;
  let kamailio: Kamailio;
  let alice: SipUserAgent;
  let bob: SipUserAgent;
  let callId = '';

  /** NG requests ngrelay logged that came from Kamailio's processes (cookie `<n>_<pid>_<seq>`). */
  async function kamailioRequests(): Promise<NgLogLine[]> {
    const pids = new Set((await kamailio.rpc('core.psx')).match(/\d+/g) ?? []);
    pids.add(String(kamailio.pid));
    return relay.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as NgLogLine)
      .filter((l) => l.msg === 'NG request' && pids.has(/^\d+_(\d+)_\d+$/.exec(l.cookie)?.[1] ?? ''));
  }

  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0', '--timeout=30'] });
    kamailio = await Kamailio.start({ ngPort: relay.ngPort });
    alice = await SipUserAgent.open('alice');
    bob = await SipUserAgent.open('bob');
  });

  afterAll(async () => {
    alice?.close();
    bob?.close();
    await kamailio?.stop();
    expect(await relay?.stop()).toBe(0);
  });

  it("answers Kamailio's start-up ping with pong, so Kamailio keeps the relay enabled", async () => {
    const pings = await waitFor('a ping from Kamailio', async () => (await kamailioRequests()).filter((r) => r.command === 'ping'));
    expect(pings[0]!.keys).toEqual(['command']);
    // Kamailio marks a node disabled when the ping gets anything but pong.
    const show = await kamailio.rpc('rtpengine.show', 'all');
    expect(show).toContain(`udp:${RELAY_IP}:${relay.ngPort}`);
    expect(show).toMatch(/disabled:\s*0/);
    expect(kamailio.output).not.toMatch(/did not respond to ping|responded with invalid response/);
  });

  it('carries a call from INVITE to BYE, with RTP and RTCP both ways through the relay', async () => {
    const aMedia = await MediaPair.open(CALLER_IP, 0xa11ce);
    const bMedia = await MediaPair.open(CALLEE_IP, 0xb0b);
    const kam = { address: '127.0.0.1', port: kamailio.sipPort };
    const inRange = (p: number): boolean => p >= relay.portMin && p <= relay.portMax;

    /** Sends `n` packets each way and checks both sides got them from the relay's ports for that side. */
    async function mediaBothWays(toAlice: RelayedMedia, toBob: RelayedMedia, n: number): Promise<void> {
      const before = [aMedia.rtp, aMedia.rtcp, bMedia.rtp, bMedia.rtcp].map((e) => e.received.length);
      aMedia.send(n, toAlice);
      bMedia.send(n, toBob);
      const atBob = (await bMedia.rtp.waitFor(before[2]! + n)).slice(before[2]);
      const atAlice = (await aMedia.rtp.waitFor(before[0]! + n)).slice(before[0]);
      const rtcpAtBob = (await bMedia.rtcp.waitFor(before[3]! + 1)).slice(before[3]);
      const rtcpAtAlice = (await aMedia.rtcp.waitFor(before[1]! + 1)).slice(before[1]);
      // Each phone hears the other's SSRC, from the relay port it sends its own media to.
      expect(atBob.map((p) => p.data.readUInt32BE(8))).toEqual(Array(n).fill(aMedia.ssrc));
      expect(atAlice.map((p) => p.data.readUInt32BE(8))).toEqual(Array(n).fill(bMedia.ssrc));
      expect(atBob.every((p) => p.address === RELAY_IP && p.port === toBob.rtpPort)).toBe(true);
      expect(atAlice.every((p) => p.address === RELAY_IP && p.port === toAlice.rtpPort)).toBe(true);
      expect(rtcpAtBob[0]!.data[1]).toBe(201);
      expect(rtcpAtBob[0]!.data.readUInt32BE(4)).toBe(aMedia.ssrc);
      expect(rtcpAtBob[0]!.port).toBe(toBob.rtcpPort);
      expect(rtcpAtAlice[0]!.data.readUInt32BE(4)).toBe(bMedia.ssrc);
      expect(rtcpAtAlice[0]!.port).toBe(toAlice.rtcpPort);
    }

    // Initial INVITE with ICE candidates; Kamailio offers it to the relay and forwards the result.
    const inviting = alice.invite(`sip:bob@127.0.0.1:${bob.port}`, kam, phoneSdp('alice', aMedia, 1, 'sendrecv', ICE));
    const invite = await bob.nextRequest('INVITE');
    callId = invite.callId;
    const toBob = relayed(invite);
    expect(toBob.address).toBe(RELAY_IP);
    expect(inRange(toBob.rtpPort)).toBe(true);
    expect(toBob.rtcpPort).toBe(toBob.rtpPort + 1);
    expect(toBob.lines).toContain(`o=alice 1234 1 IN IP4 ${RELAY_IP}`);
    expect(toBob.lines.filter((l) => /^a=(ice-|candidate)/.test(l))).toEqual([]);
    expect(invite.all('record-route')).toEqual([expect.stringMatching(new RegExp(`^<sip:127\\.0\\.0\\.1:${kamailio.sipPort};lr[;>]`))]);

    bob.respond(invite, 200, phoneSdp('bob', bMedia, 1));
    const ok = await inviting;
    expect(ok.status).toBe(200);
    const toAlice = relayed(ok);
    expect(toAlice.address).toBe(RELAY_IP);
    expect(inRange(toAlice.rtpPort)).toBe(true);
    expect(toAlice.rtpPort).not.toBe(toBob.rtpPort);
    expect(toAlice.lines).toContain(`o=bob 1234 1 IN IP4 ${RELAY_IP}`);
    await bob.nextRequest('ACK');
    await mediaBothWays(toAlice, toBob, 5);

    // Hold (sendonly) and resume: the relay keeps its ports.
    const holding = alice.request('INVITE', phoneSdp('alice', aMedia, 2, 'sendonly'));
    const hold = relayed(await bob.answer('INVITE', 200, phoneSdp('bob', bMedia, 2, 'recvonly')));
    const held = relayed(await holding);
    await bob.nextRequest('ACK');
    expect([hold.rtpPort, hold.direction]).toEqual([toBob.rtpPort, 'sendonly']);
    expect([held.rtpPort, held.direction]).toEqual([toAlice.rtpPort, 'recvonly']);

    const resuming = alice.request('INVITE', phoneSdp('alice', aMedia, 3));
    const resume = relayed(await bob.answer('INVITE', 200, phoneSdp('bob', bMedia, 3)));
    const resumed = relayed(await resuming);
    await bob.nextRequest('ACK');
    expect([resume.rtpPort, resume.direction]).toEqual([toBob.rtpPort, 'sendrecv']);
    expect([resumed.rtpPort, resumed.direction]).toEqual([toAlice.rtpPort, 'sendrecv']);
    await mediaBothWays(toAlice, toBob, 5);

    // The callee re-INVITEs: Kamailio sends its tag as from-tag; the relay finds the same parties.
    const reinviting = bob.request('INVITE', phoneSdp('bob', bMedia, 4));
    const reoffer = relayed(await alice.answer('INVITE', 200, phoneSdp('alice', aMedia, 4)));
    const reanswer = relayed(await reinviting);
    await alice.nextRequest('ACK');
    expect(reoffer.rtpPort).toBe(toAlice.rtpPort);
    expect(reanswer.rtpPort).toBe(toBob.rtpPort);
    await mediaBothWays(toAlice, toBob, 5);

    const query = await relay.ng.ok({ command: 'query', 'call-id': callId });
    expect(Object.keys(query['tags'] as object).sort()).toEqual([alice.dialog!.localTag, bob.dialog!.localTag].sort());
    const totals = query['totals'] as { RTP: { packets: number }; RTCP: { packets: number } };
    expect(totals.RTP.packets).toBe(30);
    expect(totals.RTCP.packets).toBe(6);

    // BYE: Kamailio deletes the call on the relay before forwarding it.
    const bye = alice.request('BYE');
    await bob.answer('BYE', 200);
    expect((await bye).status).toBe(200);
    const sessions = await waitFor('no own session after BYE', async () => {
      const out = await relay.cli('list numsessions');
      return out.includes('Current sessions own: 0') ? out : '';
    });
    expect(sessions).toContain('Current sessions total: 0');
    expect(await relay.ng.request({ command: 'query', 'call-id': callId })).toEqual({ result: 'error', 'error-reason': 'Unknown call-id' });
    aMedia.close();
    bMedia.close();
  });

  it("receives Kamailio's exact NG keys, in Kamailio's order, for every command of the call", async () => {
    const call = (await kamailioRequests()).filter((r) => r.callId === callId);
    expect(call.map((r) => r.command)).toEqual(['offer', 'answer', 'offer', 'answer', 'offer', 'answer', 'offer', 'answer', 'delete']);
    const initialOffer = ['supports', 'sdp', 'ICE', 'replace', 'call-id', 'received-from', 'from-tag', 'command'];
    const inDialog = ['supports', 'sdp', 'ICE', 'replace', 'call-id', 'received-from', 'from-tag', 'to-tag', 'command'];
    expect(call[0]!.keys).toEqual(initialOffer);
    for (const r of call.slice(1, -1)) expect(r.keys).toEqual(inDialog);
    expect(call[8]!.keys).toEqual(['supports', 'call-id', 'received-from', 'from-tag', 'command']);
    // Kamailio got "ok" for each: a failed command would have made its script log an error.
    expect(kamailio.output).not.toMatch(/rtpengine_(offer|answer) failed|ERROR: rtpengine/);
    const failed = relay.output.split('\n').filter((l) => l.includes('"NG command failed"') && !l.includes('"command":"query"'));
    expect(failed).toEqual([]);
  });
});
