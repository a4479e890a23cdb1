import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Relay } from '../helpers/Relay.js';
import { RtpEndpoint, rtpPacket } from '../helpers/RtpEndpoint.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';

describe('a Kamailio-shaped call through ngrelay', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start();
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('offers, answers, relays RTP both ways and deletes', async () => {
    const caller = await RtpEndpoint.open('127.0.0.1');
    const callee = await RtpEndpoint.open('127.0.0.1');
    const common = { supports: ['load limit'], ICE: 'remove', replace: ['origin', 'session-connection'], 'call-id': 'basic-1', 'received-from': ['IP4', '127.0.0.1'] };
    const offer = await relay.ng.ok({ ...common, sdp: audioSdp('127.0.0.1', caller.port), 'from-tag': 'A', command: 'offer' });
    const toCallee = readSdp(offer['sdp'] as string);
    expect(toCallee.medias[0]!.address).toBe('127.0.0.1');
    expect(toCallee.medias[0]!.port % 2).toBe(0);
    expect(toCallee.medias[0]!.rtcpPort).toBe(toCallee.medias[0]!.port + 1);
    const answer = await relay.ng.ok({ ...common, sdp: audioSdp('127.0.0.1', callee.port), 'from-tag': 'A', 'to-tag': 'B', command: 'answer' });
    const toCaller = readSdp(answer['sdp'] as string);
    expect(toCaller.medias[0]!.port).not.toBe(toCallee.medias[0]!.port);

    for (let i = 0; i < 5; i++) caller.send(rtpPacket(i, 1111), toCaller.medias[0]!.port, '127.0.0.1');
    for (let i = 0; i < 5; i++) callee.send(rtpPacket(i, 2222), toCallee.medias[0]!.port, '127.0.0.1');
    const atCallee = await callee.waitFor(5);
    const atCaller = await caller.waitFor(5);
    // Symmetric: each side hears from the port it sends to.
    expect(atCallee.every((p) => p.port === toCallee.medias[0]!.port)).toBe(true);
    expect(atCaller.every((p) => p.port === toCaller.medias[0]!.port)).toBe(true);
    expect(atCallee[0]!.data.readUInt32BE(8)).toBe(1111);

    const del = await relay.ng.ok({ ...common, 'from-tag': 'A', command: 'delete' });
    const totals = del['totals'] as { RTP: { packets: number } };
    expect(totals.RTP.packets).toBe(10);
    caller.close();
    callee.close();
  });
});
