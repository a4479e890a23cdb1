import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaCall, streamsOf } from '../helpers/MediaCall.js';
import { Relay, waitFor } from '../helpers/Relay.js';
import { RtpEndpoint, rtcpPacket, rtpPacket } from '../helpers/RtpEndpoint.js';
import { listTotalsValue, totalStatistics } from '../helpers/stats.js';

describe('media counters', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('query, list sessions <call-id> and delete show packets, bytes, errors and last packet per stream', async () => {
    const before = await totalStatistics(relay);
    const call = await MediaCall.establish(relay, { offer: { 'endpoint-learning': 'immediate', flags: ['strict source'] } });
    const stranger = await RtpEndpoint.open();
    const startedAt = Math.floor(Date.now() / 1000);
    call.callerSends(7);
    call.calleeSends(3);
    await call.callee.waitFor(7);
    await call.caller.waitFor(3);
    // Two packets from a stranger to the callee's port are dropped by strict source.
    stranger.send(rtpPacket(0, 9), call.toCallee.port, '127.0.0.1');
    stranger.send(rtpPacket(1, 9), call.toCallee.port, '127.0.0.1');
    // One RTCP packet from the caller.
    call.caller.send(rtcpPacket(1), call.toCaller.rtcpPort!, '127.0.0.1');
    await waitFor('the stranger and RTCP counted', async () => {
      const t = (await call.query())['totals'] as { RTP: { errors: number }; RTCP: { packets: number } };
      return t.RTP.errors === 2 && t.RTCP.packets === 1;
    });

    const q = await call.query();
    const [callerRtp, callerRtcp] = streamsOf(q, 'caller');
    const [calleeRtp] = streamsOf(q, 'callee');
    expect(callerRtp!.stats).toEqual({ packets: 7, bytes: 7 * 172, errors: 0 });
    expect(callerRtcp!.stats).toEqual({ packets: 1, bytes: 8, errors: 0 });
    expect(calleeRtp!.stats).toEqual({ packets: 3, bytes: 3 * 172, errors: 2 });
    expect(callerRtp!['last packet']).toBeGreaterThanOrEqual(startedAt);
    expect(callerRtp!.flags).toEqual(expect.arrayContaining(['RTP', 'filled', 'confirmed']));
    expect(callerRtcp!.flags).toContain('RTCP');
    // The SSRC of what each party sends; RTCP streams carry none, as in rtpengine's reply.
    expect(callerRtp!.SSRC).toBe(0x1111);
    expect(calleeRtp!.SSRC).toBe(0x2222);
    expect(callerRtcp).not.toHaveProperty('SSRC');
    expect(callerRtp!.endpoint).toMatchObject({ address: '127.0.0.1', port: call.caller.port });
    expect(q['totals']).toEqual({
      RTP: { packets: 10, bytes: 10 * 172, errors: 2 },
      RTCP: { packets: 1, bytes: 8, errors: 0 },
    });

    const detail = await relay.cli(`list sessions ${call.callId}`);
    const portLine = (port: number): string => detail.split('\n').find((l) => l.includes(`127.0.0.1:${String(port).padEnd(5)} <>`))!;
    // The caller's RTP socket is the one the answer SDP gave it.
    expect(portLine(call.toCaller.port)).toMatch(new RegExp(`<>\\s+127\\.0\\.0\\.1:${call.caller.port}\\s*, SSRC 1111, 7 p, 1204 b, 0 e, \\d+ ts`));
    expect(portLine(call.toCaller.port + 1)).toMatch(/\(RTCP\), SSRC \w+, 1 p, 8 b, 0 e, \d+ ts/);
    expect(portLine(call.toCallee.port)).toMatch(/, 3 p, 516 b, 2 e, \d+ ts/);

    const del = await call.delete();
    expect(del['totals']).toEqual(q['totals']);
    expect(streamsOf(del, 'caller')[0]!.stats.packets).toBe(7);

    const after = await totalStatistics(relay);
    expect(after.relayedpackets - before.relayedpackets).toBe(11);
    expect(after.relayedbytes - before.relayedbytes).toBe(10 * 172 + 8);
    expect(after.relayedpacketerrors - before.relayedpacketerrors).toBe(2);
    expect(await listTotalsValue(relay, 'Total relayed packets')).toBe(after.relayedpackets);
    expect(await listTotalsValue(relay, 'Total relayed bytes')).toBe(after.relayedbytes);
    expect(await listTotalsValue(relay, 'Total relayed packet errors')).toBe(after.relayedpacketerrors);
    stranger.close();
    call.close();
  });
});
