import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaCall } from '../helpers/MediaCall.js';
import { Relay, sleep, waitFor } from '../helpers/Relay.js';
import { RtpEndpoint, rtcpPacket, rtpPacket } from '../helpers/RtpEndpoint.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';

/** A phone with an RTP socket on an even port and its RTCP socket on the next one. */
async function phonePair(): Promise<{ rtp: RtpEndpoint; rtcp: RtpEndpoint }> {
  for (;;) {
    const rtp = await RtpEndpoint.open();
    if (rtp.port % 2 === 0) {
      try {
        return { rtp, rtcp: await RtpEndpoint.open('127.0.0.1', rtp.port + 1) };
      } catch {
        /* odd port taken: try another pair */
      }
    }
    rtp.close();
  }
}

const isRtcp = (b: Buffer): boolean => b[1]! >= 192 && b[1]! <= 223;

describe('RTCP relaying', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('relays RTCP from odd port to odd port, beside RTP on the even ports', async () => {
    const a = await phonePair();
    const b = await phonePair();
    const call = await MediaCall.open(relay);
    await call.offer(audioSdp('127.0.0.1', a.rtp.port));
    await call.answer(audioSdp('127.0.0.1', b.rtp.port));
    expect(call.toCallee.rtcpPort).toBe(call.toCallee.port + 1);
    expect(call.toCaller.rtcpPort).toBe(call.toCaller.port + 1);
    for (let i = 0; i < 3; i++) a.rtcp.send(rtcpPacket(0xa), call.toCaller.rtcpPort!, '127.0.0.1');
    for (let i = 0; i < 4; i++) b.rtcp.send(rtcpPacket(0xb), call.toCallee.rtcpPort!, '127.0.0.1');
    a.rtp.send(rtpPacket(0, 0xa), call.toCaller.port, '127.0.0.1');
    const atB = await b.rtcp.waitFor(3);
    const atA = await a.rtcp.waitFor(4);
    await b.rtp.waitFor(1);
    // Each side hears RTCP from the relay's odd port it sends its own RTCP to.
    expect(atB.every((p) => p.port === call.toCallee.rtcpPort && p.data.equals(rtcpPacket(0xa)))).toBe(true);
    expect(atA.every((p) => p.port === call.toCaller.rtcpPort && p.data.equals(rtcpPacket(0xb)))).toBe(true);
    expect(b.rtp.received.every((p) => !isRtcp(p.data))).toBe(true);
    const q = await call.query();
    const totals = q['totals'] as { RTP: { packets: number }; RTCP: { packets: number } };
    expect(totals.RTCP.packets).toBe(7);
    expect(totals.RTP.packets).toBe(1);
    await call.delete();
    for (const p of [a, b]) {
      p.rtp.close();
      p.rtcp.close();
    }
    call.close();
  });

  it('with rtcp-mux on both sides carries RTP and RTCP on one port each way', async () => {
    const mux = { extra: ['a=rtcp-mux'] };
    const call = await MediaCall.open(relay, {
      callerSdp: (c) => audioSdp('127.0.0.1', c.port, mux),
      calleeSdp: (c) => audioSdp('127.0.0.1', c.port, mux),
    });
    await call.offer();
    // §5.1: an offer with mux goes on with a=rtcp:<rtp+1> and a=rtcp-mux.
    expect(call.toCallee.rtcpMux).toBe(true);
    expect(call.toCallee.rtcpPort).toBe(call.toCallee.port + 1);
    await call.answer();
    // An answer accepting mux: a=rtcp:<same port> and a=rtcp-mux.
    expect(call.toCaller.rtcpMux).toBe(true);
    expect(call.toCaller.rtcpPort).toBe(call.toCaller.port);

    call.caller.send(rtpPacket(0, 0xa), call.toCaller.port, '127.0.0.1');
    call.caller.send(rtcpPacket(0xa), call.toCaller.port, '127.0.0.1');
    call.callee.send(rtcpPacket(0xb), call.toCallee.port, '127.0.0.1');
    call.callee.send(rtpPacket(0, 0xb), call.toCallee.port, '127.0.0.1');
    await call.callee.waitFor(2);
    await call.caller.waitFor(2);
    expect(call.callee.received.map((p) => isRtcp(p.data)).sort()).toEqual([false, true]);
    expect(call.caller.received.map((p) => isRtcp(p.data)).sort()).toEqual([false, true]);
    expect(call.callee.received.every((p) => p.port === call.toCallee.port)).toBe(true);
    expect(call.caller.received.every((p) => p.port === call.toCaller.port)).toBe(true);
    await call.delete();
    call.close();
  });

  // A caller muxes with a=rtcp-mux, or (as rtpengine reads it) with a=rtcp on its RTP port.
  for (const how of ['a=rtcp-mux', 'a=rtcp:PORT'] as const) it(`rtcp-mux demux: splits the muxed caller's RTCP (${how}) towards a callee without mux, and muxes the way back`, async () => {
    const b = await phonePair();
    const call = await MediaCall.open(relay, { offer: { 'rtcp-mux': ['demux'] } });
    await call.offer(audioSdp('127.0.0.1', call.caller.port, { extra: [how.replace('PORT', String(call.caller.port))] }));
    // §5.1: with demux no mux is offered downstream.
    expect(call.toCallee.rtcpMux).toBe(false);
    expect(call.toCallee.rtcpPort).toBe(call.toCallee.port + 1);
    await call.answer(audioSdp('127.0.0.1', b.rtp.port));
    // Towards the muxing caller, mux is accepted.
    expect(call.toCaller.rtcpMux).toBe(true);
    expect(call.toCaller.rtcpPort).toBe(call.toCaller.port);

    call.caller.send(rtpPacket(0, 0xa), call.toCaller.port, '127.0.0.1');
    call.caller.send(rtcpPacket(0xa), call.toCaller.port, '127.0.0.1');
    await b.rtp.waitFor(1);
    const rtcpAtB = await b.rtcp.waitFor(1);
    expect(isRtcp(rtcpAtB[0]!.data)).toBe(true);
    expect(rtcpAtB[0]!.port).toBe(call.toCallee.rtcpPort);
    expect(isRtcp(b.rtp.received[0]!.data)).toBe(false);

    b.rtcp.send(rtcpPacket(0xb), call.toCallee.rtcpPort!, '127.0.0.1');
    b.rtp.send(rtpPacket(0, 0xb), call.toCallee.port, '127.0.0.1');
    const atCaller = await call.caller.waitFor(2);
    expect(atCaller.every((p) => p.port === call.toCaller.port)).toBe(true);
    expect(atCaller.map((p) => isRtcp(p.data)).sort()).toEqual([false, true]);
    await sleep(50);
    expect(b.rtcp.received).toHaveLength(1);
    await call.delete();
    b.rtp.close();
    b.rtcp.close();
    call.close();
  });

  it('rtcp-mux offer: muxes towards a callee that accepts, and splits its RTCP towards a caller without mux', async () => {
    const a = await phonePair();
    const call = await MediaCall.open(relay, { offer: { 'rtcp-mux': ['offer'] } });
    await call.offer(audioSdp('127.0.0.1', a.rtp.port));
    expect(call.toCallee.rtcpMux).toBe(true);
    await call.answer(audioSdp('127.0.0.1', call.callee.port, { extra: ['a=rtcp-mux'] }));
    expect(call.toCaller.rtcpMux).toBe(false);
    expect(call.toCaller.rtcpPort).toBe(call.toCaller.port + 1);

    call.callee.send(rtcpPacket(0xb), call.toCallee.port, '127.0.0.1');
    call.callee.send(rtpPacket(0, 0xb), call.toCallee.port, '127.0.0.1');
    const rtcpAtA = await a.rtcp.waitFor(1);
    const rtpAtA = await a.rtp.waitFor(1);
    expect(rtcpAtA[0]!.port).toBe(call.toCaller.rtcpPort);
    expect(isRtcp(rtcpAtA[0]!.data)).toBe(true);
    expect(isRtcp(rtpAtA[0]!.data)).toBe(false);

    a.rtcp.send(rtcpPacket(0xa), call.toCaller.rtcpPort!, '127.0.0.1');
    const atCallee = await call.callee.waitFor(1);
    expect(atCallee[0]!.port).toBe(call.toCallee.port);
    expect(isRtcp(atCallee[0]!.data)).toBe(true);
    await call.delete();
    a.rtp.close();
    a.rtcp.close();
    call.close();
  });

  it('recognises RTCP on a muxed port by the second byte 192-223 (RFC 5761), everything else is RTP', async () => {
    const b = await phonePair();
    const call = await MediaCall.open(relay, { offer: { 'rtcp-mux': ['demux'] } });
    await call.offer(audioSdp('127.0.0.1', call.caller.port, { extra: ['a=rtcp-mux'] }));
    await call.answer(audioSdp('127.0.0.1', b.rtp.port));
    const probe = (second: number): Buffer => Buffer.from([0x80, second, 0, 0, 0, 0, 0, 0]);
    // 191 and 224 are RTP (marker bit + PT 63 / 96); 192 and 223 are RTCP.
    for (const second of [191, 192, 223, 224]) call.caller.send(probe(second), call.toCaller.port, '127.0.0.1');
    await waitFor('4 packets at the callee', () => b.rtp.received.length + b.rtcp.received.length >= 4);
    expect(b.rtp.received.map((p) => p.data[1]).sort()).toEqual([191, 224]);
    expect(b.rtcp.received.map((p) => p.data[1]).sort()).toEqual([192, 223]);
    await call.delete();
    b.rtp.close();
    b.rtcp.close();
    call.close();
  });
});
