import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IcePeer } from '../helpers/IcePeer.js';
import { Relay, waitFor } from '../helpers/Relay.js';
import { RtpEndpoint, rtpPacket } from '../helpers/RtpEndpoint.js';

const sdp = (port: number, extra: string[] = []): string =>
  ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'c=IN IP4 127.0.0.1', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', 'a=rtcp-mux', ...extra, ''].join('\r\n');
const mPort = (s: string): number => Number(/^m=audio (\d+)/m.exec(s)![1]);

/** Media from the plain phone reaches the ICE peer through the relay, and back; resolves once both arrived. */
async function mediaBothWays(phone: RtpEndpoint, phoneRelayPort: number, peer: IcePeer, peerRelayPort: number, seq: number): Promise<void> {
  const toPeer = rtpPacket(seq, 0x1111);
  toPeer.fill(0x5a, 12);
  const before = peer.media.length;
  phone.send(toPeer, phoneRelayPort, '127.0.0.1');
  await peer.until(() => peer.media.length > before, 'media from the relay');
  expect(peer.media.at(-1)!.data.subarray(12).equals(toPeer.subarray(12))).toBe(true);
  expect(peer.media.at(-1)!.from.port).toBe(peerRelayPort);
  const back = rtpPacket(seq, 0x2222);
  back.fill(0xa5, 12);
  const n = phone.received.length;
  peer.send(back, peerRelayPort);
  const got = await phone.waitFor(n + 1);
  expect(got.at(-1)!.data.subarray(12).equals(back.subarray(12))).toBe(true);
}

// The relay as a full ICE agent (RFC 8445) between a plain phone and a test-side ICE peer,
// on an interface with an IPv4 and an IPv6 address (as rtpengine's own tests run it).
describe('full ICE', () => {
  let relay: Relay;
  let phone: RtpEndpoint;
  beforeAll(async () => {
    relay = await Relay.start({ interfaces: ['pub1/127.0.0.1', 'pub1/::1'], args: ['--delete-delay=0'] });
    phone = await RtpEndpoint.open();
  });
  afterAll(async () => {
    phone?.close();
    expect(await relay?.stop()).toBe(0);
  });

  it('checks the answerer as the controlling agent and nominates the pair that works', async () => {
    const peer = await IcePeer.open('peerA1', 'peerpassword0123456789ab');
    try {
      const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-1', 'from-tag': 'a', sdp: sdp(phone.port), ICE: 'force' });
      const offer = String(o['sdp']);
      expect(offer).not.toMatch(/^a=ice-lite/m);
      expect(offer).toMatch(/^a=candidate:[0-9A-Za-z]{16} 1 UDP 2130706431 127\.0\.0\.1 \d+ typ host$/m);
      peer.takeRelay(offer);
      const a = await relay.ng.ok({ command: 'answer', 'call-id': 'ice-1', 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(peer.port, peer.sdpLines()) });
      const relayToPeer = mPort(offer);
      await peer.until(() => peer.checks.some((c) => c.useCandidate), 'nomination');
      const first = peer.checks[0]!;
      expect(first).toMatchObject({ username: `peerA1:${peer.relay.ufrag}`, role: 'controlling', useCandidate: false });
      expect(first.from.port).toBe(relayToPeer);
      // Checks carry a peer-reflexive priority (type 110) and name the sender, as rtpengine's do.
      expect(first.priority).toBe(110 * 2 ** 24 + 65535 * 256 + 255);
      expect(first.software).toMatch(/^rtpengine/);
      await mediaBothWays(phone, mPort(String(a['sdp'])), peer, relayToPeer, 1);
    } finally {
      peer.close();
      await relay.ng.ok({ command: 'delete', 'call-id': 'ice-1' });
    }
  });

  it('answers an ICE offerer as the controlled agent: triggered checks, media on the nominated pair', async () => {
    const peer = await IcePeer.open('peerB1', 'peerpassword0123456789ab');
    try {
      const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-2', 'from-tag': 'b', sdp: sdp(peer.port, peer.sdpLines()), ICE: 'remove' });
      const a = await relay.ng.ok({ command: 'answer', 'call-id': 'ice-2', 'from-tag': 'b', 'to-tag': 'a', sdp: sdp(phone.port) });
      const answer = String(a['sdp']);
      expect(answer).not.toMatch(/^a=ice-lite/m);
      peer.takeRelay(answer);
      const relayToPeer = mPort(answer);
      // The relay checks the offerer's candidate by itself, in the controlled role.
      await peer.until(() => peer.checks.length > 0, 'check from the relay');
      expect(peer.checks[0]!.role).toBe('controlled');
      peer.check(relayToPeer, 'controlling', true);
      await peer.until(() => peer.responses.some((r) => r.type === 0x0101), 'success response');
      await mediaBothWays(phone, mPort(String(o['sdp'])), peer, relayToPeer, 2);
    } finally {
      peer.close();
      await relay.ng.ok({ command: 'delete', 'call-id': 'ice-2' });
    }
  });

  it('learns a peer-reflexive candidate from a check and sends media there once nominated', async () => {
    // The SDP candidate is a port nobody answers on; the peer's checks come from its real socket.
    const silent = await RtpEndpoint.open();
    const peer = await IcePeer.open('peerC1', 'peerpassword0123456789ab');
    try {
      const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-3', 'from-tag': 'a', sdp: sdp(phone.port), ICE: 'force' });
      const offer = String(o['sdp']);
      peer.takeRelay(offer);
      const a = await relay.ng.ok({ command: 'answer', 'call-id': 'ice-3', 'from-tag': 'a', 'to-tag': 'c', sdp: sdp(silent.port, peer.sdpLines(silent.port)) });
      const relayToPeer = mPort(offer);
      await silent.waitFor(1);
      // A check from an address the relay never heard of: a success, a triggered check back, a nomination.
      peer.check(relayToPeer, 'controlled', false);
      await peer.until(() => peer.checks.some((c) => c.useCandidate), 'nomination of the peer-reflexive pair');
      expect(peer.responses[0]!.type).toBe(0x0101);
      expect(peer.checks.every((c) => c.from.port === relayToPeer)).toBe(true);
      await mediaBothWays(phone, mPort(String(a['sdp'])), peer, relayToPeer, 3);
    } finally {
      peer.close();
      silent.close();
      await relay.ng.ok({ command: 'delete', 'call-id': 'ice-3' });
    }
  });

  it('settles a role conflict by tie-breaker: 487 to a smaller one, a role switch for a larger one', async () => {
    const peer = await IcePeer.open('peerD1', 'peerpassword0123456789ab');
    peer.answering = false;
    try {
      const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-4', 'from-tag': 'a', sdp: sdp(phone.port), ICE: 'force' });
      const offer = String(o['sdp']);
      peer.takeRelay(offer);
      await relay.ng.ok({ command: 'answer', 'call-id': 'ice-4', 'from-tag': 'a', 'to-tag': 'd', sdp: sdp(peer.port, peer.sdpLines()) });
      const relayToPeer = mPort(offer);
      await peer.until(() => peer.checks.length > 0, 'check');
      expect(peer.checks[0]!.role).toBe('controlling');
      // Both controlling, ours the smaller tie-breaker: the relay keeps its role and answers 487.
      peer.check(relayToPeer, 'controlling', false, Buffer.alloc(8, 0));
      await peer.until(() => peer.responses.length > 0, 'response');
      expect(peer.responses[0]).toMatchObject({ type: 0x0111, code: 487 });
      // The largest tie-breaker wins: the relay becomes controlled and its checks say so.
      peer.check(relayToPeer, 'controlling', false, Buffer.alloc(8, 0xff));
      await peer.until(() => peer.checks.some((c) => c.role === 'controlled'), 'check in the controlled role');
      expect(peer.responses.at(-1)!.type).toBe(0x0101);
    } finally {
      peer.close();
      await relay.ng.ok({ command: 'delete', 'call-id': 'ice-4' });
    }
  });

  it('switches roles on a 487 answer to its own check', async () => {
    const peer = await IcePeer.open('peerE1', 'peerpassword0123456789ab');
    peer.conflictRole = 'controlling';
    peer.tieBreaker = Buffer.alloc(8, 0xff);
    try {
      const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-5', 'from-tag': 'a', sdp: sdp(phone.port), ICE: 'force' });
      peer.takeRelay(String(o['sdp']));
      await relay.ng.ok({ command: 'answer', 'call-id': 'ice-5', 'from-tag': 'a', 'to-tag': 'e', sdp: sdp(peer.port, peer.sdpLines()) });
      await peer.until(() => peer.checks.some((c) => c.role === 'controlled'), 'check in the controlled role after 487');
      expect(peer.checks[0]!.role).toBe('controlling');
    } finally {
      peer.close();
      await relay.ng.ok({ command: 'delete', 'call-id': 'ice-5' });
    }
  });

  it('restarts ICE on new credentials in a re-offer: new credentials back, media goes on', async () => {
    const peer = await IcePeer.open('peerF1', 'peerpassword0123456789ab');
    try {
      const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-6', 'from-tag': 'f', sdp: sdp(peer.port, peer.sdpLines()), ICE: 'remove' });
      const a = await relay.ng.ok({ command: 'answer', 'call-id': 'ice-6', 'from-tag': 'f', 'to-tag': 'a', sdp: sdp(phone.port) });
      const answer = String(a['sdp']);
      peer.takeRelay(answer);
      const relayToPeer = mPort(answer);
      peer.check(relayToPeer, 'controlling', true);
      await mediaBothWays(phone, mPort(String(o['sdp'])), peer, relayToPeer, 4);

      const restarted = await IcePeer.open('peerF2', 'peerpassword9876543210xy');
      try {
        const ro = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-6', 'from-tag': 'f', 'to-tag': 'a', sdp: sdp(restarted.port, restarted.sdpLines()), ICE: 'remove' });
        expect(mPort(String(ro['sdp']))).toBe(mPort(String(o['sdp'])));
        const ra = await relay.ng.ok({ command: 'answer', 'call-id': 'ice-6', 'from-tag': 'f', 'to-tag': 'a', sdp: sdp(phone.port) });
        const reAnswer = String(ra['sdp']);
        expect(mPort(reAnswer)).toBe(relayToPeer);
        restarted.takeRelay(reAnswer);
        expect(restarted.relay.ufrag).not.toBe(peer.relay.ufrag);
        // The new generation checks with the new credentials; the old ones are refused.
        await restarted.until(() => restarted.checks.some((c) => c.username === `peerF2:${restarted.relay.ufrag}`), 'check with the new credentials');
        const answered = peer.responses.length;
        peer.check(relayToPeer, 'controlling', true);
        restarted.check(relayToPeer, 'controlling', true);
        await restarted.until(() => restarted.responses.length > 0, 'response to the new generation');
        expect(peer.responses.length).toBe(answered);
        await mediaBothWays(phone, mPort(String(o['sdp'])), restarted, relayToPeer, 5);
      } finally {
        restarted.close();
      }
    } finally {
      peer.close();
      await relay.ng.ok({ command: 'delete', 'call-id': 'ice-6' });
    }
  });

  it('is the lite side with ICE-lite: a=ice-lite, checks answered, none sent', async () => {
    const peer = await IcePeer.open('peerG1', 'peerpassword0123456789ab');
    try {
      const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-7', 'from-tag': 'a', sdp: sdp(phone.port), ICE: 'force', 'ICE-lite': 'forward' });
      const offer = String(o['sdp']);
      expect(offer).toMatch(/^a=ice-lite$/m);
      peer.takeRelay(offer);
      const a = await relay.ng.ok({ command: 'answer', 'call-id': 'ice-7', 'from-tag': 'a', 'to-tag': 'g', sdp: sdp(peer.port, peer.sdpLines()) });
      expect(String(a['sdp'])).not.toMatch(/a=ice-/);
      peer.check(mPort(offer), 'controlling', true);
      await peer.until(() => peer.responses.length > 0, 'response');
      await mediaBothWays(phone, mPort(String(a['sdp'])), peer, mPort(offer), 6);
      // Media has gone both ways since the check: a check of the relay's would have come before it.
      expect(peer.checks).toEqual([]);
    } finally {
      peer.close();
      await relay.ng.ok({ command: 'delete', 'call-id': 'ice-7' });
    }
  });

  it('keeps the first decision for re-offers: an answer without ICE declines it for good', async () => {
    const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-8', 'from-tag': 'a', sdp: sdp(phone.port), ICE: 'force' });
    expect(String(o['sdp'])).toMatch(/^a=ice-ufrag:/m);
    await relay.ng.ok({ command: 'answer', 'call-id': 'ice-8', 'from-tag': 'a', 'to-tag': 'h', sdp: sdp(phone.port + 2) });
    const ro = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-8', 'from-tag': 'a', 'to-tag': 'h', sdp: sdp(phone.port) });
    expect(String(ro['sdp'])).not.toMatch(/a=ice-|a=candidate/);
    await relay.ng.ok({ command: 'delete', 'call-id': 'ice-8' });
  });

  it('takes a trickling offer with no candidates yet (null address, port 9) for a call, not a hold', async () => {
    const trickle = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 0.0.0.0', 't=0 0', 'm=audio 9 RTP/AVP 0', 'a=ice-ufrag:peerH1', 'a=ice-pwd:peerpassword0123456789ab', 'a=ice-options:trickle', ''].join('\r\n');
    const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-9', 'from-tag': 'a', sdp: trickle, ICE: 'remove' });
    const offer = String(o['sdp']);
    expect(offer).toMatch(/^c=IN IP4 127\.0\.0\.1$/m);
    expect(offer).toMatch(/^a=sendrecv$/m);
    await relay.ng.ok({ command: 'delete', 'call-id': 'ice-9' });
  });

  it('takes trickled candidates from an SDP fragment (offer with the fragment flag) and checks them', async () => {
    const peer = await IcePeer.open('peerI1', 'peerpassword0123456789ab');
    try {
      const creds = peer.sdpLines().slice(0, 2);
      const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-10', 'from-tag': 'i', sdp: sdp(9, [...creds, 'a=ice-options:trickle', 'a=mid:0']).replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0'), ICE: 'remove' });
      const a = await relay.ng.ok({ command: 'answer', 'call-id': 'ice-10', 'from-tag': 'i', 'to-tag': 'a', sdp: sdp(phone.port) });
      const answer = String(a['sdp']);
      peer.takeRelay(answer);
      const fragment = [...creds, 'm=audio 9 RTP/AVP 0', 'a=mid:0', `a=candidate:peer1 1 UDP 2130706431 127.0.0.1 ${peer.port} typ host`, ''].join('\r\n');
      const f = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-10', 'from-tag': 'i', 'to-tag': 'a', sdp: fragment, flags: ['fragment'] });
      expect(f['sdp']).toBeUndefined();
      await peer.until(() => peer.checks.length > 0, 'check of the trickled candidate');
      expect(peer.checks[0]!).toMatchObject({ role: 'controlled', username: `peerI1:${peer.relay.ufrag}` });
      peer.check(mPort(answer), 'controlling', true);
      await mediaBothWays(phone, mPort(String(o['sdp'])), peer, mPort(answer), 7);
    } finally {
      peer.close();
      await relay.ng.ok({ command: 'delete', 'call-id': 'ice-10' });
    }
  });

  it('offers a candidate on each address of the interface: a check on the IPv6 one selects it, and media then leaves from there', async () => {
    const peer = await IcePeer.open('peerK1', 'peerpassword0123456789ab', '::1');
    try {
      const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-11', 'from-tag': 'k', sdp: sdp(peer.port, peer.sdpLines()), ICE: 'remove' });
      expect(String(o['sdp'])).not.toMatch(/a=candidate/);
      const a = await relay.ng.ok({ command: 'answer', 'call-id': 'ice-11', 'from-tag': 'k', 'to-tag': 'l', sdp: sdp(phone.port) });
      const answer = String(a['sdp']);
      // rtpengine's order and priorities (rtcp-mux: RTP's component only): the SDP's address first, then the other.
      const candidates = [...answer.matchAll(/^a=candidate:\S+ (\d) UDP (\d+) (\S+) (\d+) typ host\r?$/gm)].map((c) => [c[1], c[2], c[3], Number(c[4])]);
      const v6Port = Number(candidates[1]?.[3]);
      expect(candidates).toEqual([['1', '2130706431', '127.0.0.1', mPort(answer)], ['1', '2130706175', '::1', v6Port]]);
      peer.takeRelay(answer);
      // The relay checks the peer's IPv6 candidate from its IPv6 address only.
      await peer.until(() => peer.checks.length > 0, 'check from the relay');
      expect(peer.checks[0]!.from).toEqual({ address: '::1', port: v6Port });
      peer.check(v6Port, 'controlling', true);
      await peer.until(() => peer.responses.some((r) => r.type === 0x0101), 'success response');
      expect(peer.responses.at(-1)!.from).toEqual({ address: '::1', port: v6Port });
      await mediaBothWays(phone, mPort(String(o['sdp'])), peer, v6Port, 11);
      expect(peer.media.at(-1)!.from).toEqual({ address: '::1', port: v6Port });
      // A media worker that dies is replaced: the IPv6 port is bound again, and media leaves
      // from there as before at once, with no new checks (the agent carries on with its pair).
      const checks = peer.checks.length;
      const busiest = async (): Promise<number[]> => [...(await relay.cli('list workers')).matchAll(/Worker \d+: (\d+) ports/g)].map((m) => Number(m[1]));
      const ports = await busiest();
      const index = ports.indexOf(Math.max(...ports));
      await relay.cli(`workers kill ${index}`);
      await waitFor('the worker restarted', () => relay.output.includes('media worker restarted'), 5000);
      await waitFor('its ports bound again', async () => (await busiest())[index] === ports[index], 5000);
      await mediaBothWays(phone, mPort(String(o['sdp'])), peer, v6Port, 12);
      expect(peer.media.at(-1)!.from).toEqual({ address: '::1', port: v6Port });
      expect(peer.checks.length).toBe(checks);
      const before = peer.responses.length;
      peer.check(v6Port, 'controlling', true);
      await peer.until(() => peer.responses.length > before, 'success response from the new worker');
      expect(peer.responses.at(-1)!.from).toEqual({ address: '::1', port: v6Port });
    } finally {
      peer.close();
      await relay.ng.ok({ command: 'delete', 'call-id': 'ice-11' });
    }
  });

  it('names only the selected candidate once ICE completed, with a=remote-candidates in its offers while controlling', async () => {
    // The answerer's only candidate is IPv6: the pair the relay nominates is on its second address.
    const peer = await IcePeer.open('peerT1', 'peerpassword0123456789ab', '::1');
    const iceOf = (x: string): string[] => x.split('\r\n').filter((l) => /^a=(candidate|remote-candidates|ice-ufrag)/.test(l));
    try {
      const phoneSdp = sdp(phone.port);
      const offer = String((await relay.ng.ok({ command: 'offer', 'call-id': 'ice-15', 'from-tag': 'a', sdp: phoneSdp, ICE: 'force' }))['sdp']);
      const ufrag = /^a=ice-ufrag:\S+/m.exec(offer)![0];
      const selected = /^a=candidate:\S+ 1 UDP 2130706175 ::1 (\d+) typ host$/m.exec(offer)!;
      peer.takeRelay(offer);
      const peerSdp = sdp(peer.port, peer.sdpLines());
      const a = await relay.ng.ok({ command: 'answer', 'call-id': 'ice-15', 'from-tag': 'a', 'to-tag': 't', sdp: peerSdp });
      await peer.until(() => peer.checks.some((c) => c.useCandidate), 'nomination');
      await mediaBothWays(phone, mPort(String(a['sdp'])), peer, Number(selected[1]), 15);
      // A re-INVITE from the phone: the offer to the peer (the relay controls) has the selected candidate and the peer's side of the pair.
      const reoffer = await waitFor('ICE completed towards the peer', async () => {
        const x = String((await relay.ng.ok({ command: 'offer', 'call-id': 'ice-15', 'from-tag': 'a', 'to-tag': 't', sdp: phoneSdp, ICE: 'force' }))['sdp']);
        return x.includes('a=remote-candidates:') ? x : null;
      }, 5000);
      expect(iceOf(reoffer)).toEqual([ufrag, selected[0], `a=remote-candidates:1 ::1 ${peer.port}`]);
      await relay.ng.ok({ command: 'answer', 'call-id': 'ice-15', 'from-tag': 'a', 'to-tag': 't', sdp: peerSdp });
      // A re-INVITE from the peer: its answer has the selected candidate only.
      await relay.ng.ok({ command: 'offer', 'call-id': 'ice-15', 'from-tag': 't', 'to-tag': 'a', sdp: peerSdp, ICE: 'remove' });
      const reanswer = String((await relay.ng.ok({ command: 'answer', 'call-id': 'ice-15', 'from-tag': 't', 'to-tag': 'a', sdp: phoneSdp }))['sdp']);
      expect(iceOf(reanswer)).toEqual([ufrag, selected[0]]);
      await mediaBothWays(phone, mPort(String(a['sdp'])), peer, Number(selected[1]), 16);
      // An ICE restart from the peer starts over: new credentials, every candidate again.
      const restart = peerSdp.replace('a=ice-ufrag:peerT1', 'a=ice-ufrag:peerT2');
      await relay.ng.ok({ command: 'offer', 'call-id': 'ice-15', 'from-tag': 't', 'to-tag': 'a', sdp: restart, ICE: 'remove' });
      const restarted = iceOf(String((await relay.ng.ok({ command: 'answer', 'call-id': 'ice-15', 'from-tag': 't', 'to-tag': 'a', sdp: phoneSdp }))['sdp']));
      expect(restarted).toHaveLength(3);
      expect(restarted[0]).not.toBe(ufrag);
      expect(restarted[2]).toMatch(/^a=candidate:\S+ 1 UDP 2130706175 ::1 \d+ typ host$/);
    } finally {
      peer.close();
      await relay.ng.ok({ command: 'delete', 'call-id': 'ice-15' });
    }
  });

  it('names only the selected candidate in a re-INVITE to an ICE offerer once ICE completed, with no a=remote-candidates (the relay is controlled)', async () => {
    const peer = await IcePeer.open('peerU1', 'peerpassword0123456789ab', '::1');
    try {
      const peerSdp = sdp(peer.port, peer.sdpLines());
      const phoneSdp = sdp(phone.port);
      const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-16', 'from-tag': 'u', sdp: peerSdp, ICE: 'remove' });
      const answer = String((await relay.ng.ok({ command: 'answer', 'call-id': 'ice-16', 'from-tag': 'u', 'to-tag': 'a', sdp: phoneSdp }))['sdp']);
      const selected = /^a=candidate:\S+ 1 UDP 2130706175 ::1 (\d+) typ host$/m.exec(answer)!;
      peer.takeRelay(answer);
      await peer.until(() => peer.checks.length > 0, 'check from the relay');
      peer.check(Number(selected[1]), 'controlling', true);
      await mediaBothWays(phone, mPort(String(o['sdp'])), peer, Number(selected[1]), 17);
      // The phone's re-INVITE, without ICE flags: the peer keeps ICE, under the same credentials.
      const reoffer = await waitFor('ICE completed towards the peer', async () => {
        const x = String((await relay.ng.ok({ command: 'offer', 'call-id': 'ice-16', 'from-tag': 'a', 'to-tag': 'u', sdp: phoneSdp }))['sdp']);
        return x.split('\r\n').filter((l) => l.startsWith('a=candidate:')).length === 1 ? x : null;
      }, 5000);
      expect(reoffer.split('\r\n').filter((l) => /^a=(candidate|remote-candidates|ice-ufrag)/.test(l))).toEqual([`a=ice-ufrag:${peer.relay.ufrag}`, selected[0]]);
    } finally {
      peer.close();
      await relay.ng.ok({ command: 'delete', 'call-id': 'ice-16' });
    }
  });

  it('passes ICE through with ICE=optional between two ICE parties: their own ICE lines, the relay\'s candidates below them, checks relayed end to end', async () => {
    const a = await IcePeer.open('peerP1', 'peerpassword0123456789ab');
    const b = await IcePeer.open('peerQ1', 'peerpassword0123456789cd');
    try {
      const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-12', 'from-tag': 'p', sdp: sdp(a.port, a.sdpLines()), ICE: 'optional' });
      const offer = String(o['sdp']);
      const toB = mPort(offer);
      // rtpengine's passthrough priorities: just below the party's host candidate, the second address wrapping past 32 bits.
      expect(offer).toContain(`a=ice-ufrag:peerP1\r\na=ice-pwd:peerpassword0123456789ab\r\na=candidate:peer1 1 UDP 2130706431 127.0.0.1 ${a.port} typ host\r\n`);
      expect(offer).toMatch(new RegExp(`a=candidate:\\S+ 1 UDP 2097152255 127\\.0\\.0\\.1 ${toB} typ host\\r\\na=candidate:\\S+ 1 UDP 4294967295 ::1 \\d+ typ host\\r\\n`));
      expect(offer.match(/^a=ice-ufrag:/gm)).toHaveLength(1);
      const ans = await relay.ng.ok({ command: 'answer', 'call-id': 'ice-12', 'from-tag': 'p', 'to-tag': 'q', sdp: sdp(b.port, b.sdpLines()), ICE: 'optional' });
      const answer = String(ans['sdp']);
      const toA = mPort(answer);
      expect(answer).toContain(`a=ice-ufrag:peerQ1\r\n`);
      expect(answer).toMatch(new RegExp(`a=candidate:\\S+ 1 UDP 2097152255 127\\.0\\.0\\.1 ${toA} typ host`));
      // The parties check each other through the relay's ports; the relay answers nothing itself.
      a.relay = { ufrag: b.ufrag, pwd: b.pwd };
      b.relay = { ufrag: a.ufrag, pwd: a.pwd };
      a.check(toA, 'controlling', true);
      await b.until(() => b.checks.length > 0, 'check relayed from the offerer');
      expect(b.checks[0]).toMatchObject({ username: 'peerQ1:peerP1', from: { address: '127.0.0.1', port: toB } });
      await a.until(() => a.responses.length > 0, 'response relayed from the answerer');
      expect(a.responses[0]).toMatchObject({ type: 0x0101, from: { address: '127.0.0.1', port: toA } });
    } finally {
      a.close();
      b.close();
      await relay.ng.ok({ command: 'delete', 'call-id': 'ice-12' });
    }
  });

  it('tells the receiver of an offer with the trickle ICE flag that the relay trickles', async () => {
    const o = await relay.ng.ok({ command: 'offer', 'call-id': 'ice-13', 'from-tag': 'r', sdp: sdp(phone.port), ICE: 'force', flags: ['trickle ICE'] });
    const offer = String(o['sdp']);
    expect(offer).toMatch(/a=ice-pwd:\S+\r\na=ice-options:trickle\r\na=candidate:/);
    expect(offer).toMatch(/typ host\r\na=end-of-candidates\r\n/);
    await relay.ng.ok({ command: 'delete', 'call-id': 'ice-13' });
  });

  it('gives the receiver new ports and ICE credentials when an ICE offerer moved with no port latching (else keeps them)', async () => {
    const ufrag = (x: string): string => /^a=ice-ufrag:(\S+)/m.exec(x)![1]!;
    const offer = async (port: number, flags: string[]): Promise<string> =>
      String((await relay.ng.ok({ command: 'offer', 'call-id': 'ice-14', 'from-tag': 's', sdp: sdp(port), ICE: 'force', flags }))['sdp']);
    const first = await offer(phone.port, ['no port latching']);
    const same = await offer(phone.port, ['no port latching']);
    expect([mPort(same), ufrag(same)]).toEqual([mPort(first), ufrag(first)]);
    const latched = await offer(phone.port + 2, []);
    expect([mPort(latched), ufrag(latched)]).toEqual([mPort(first), ufrag(first)]);
    const moved = await offer(phone.port + 4, ['no port latching']);
    expect(mPort(moved)).not.toBe(mPort(first));
    expect(ufrag(moved)).not.toBe(ufrag(first));
    expect(moved).toMatch(/a=candidate:\S+ 1 UDP 2130706175 ::1 \d+ typ host/);
    await relay.ng.ok({ command: 'delete', 'call-id': 'ice-14' });
  });
});
