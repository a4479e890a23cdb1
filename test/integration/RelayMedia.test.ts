import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaCall, uniqueCallId } from '../helpers/MediaCall.js';
import { quietRange } from '../helpers/ports.js';
import { Relay, sleep, waitFor } from '../helpers/Relay.js';
import { RtpEndpoint, rtpPacket } from '../helpers/RtpEndpoint.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';

/** Caller SDP with an audio and a video m-line on two different phone sockets. */
function avSdp(address: string, audioPort: number, videoPort: number): string {
  return [
    'v=0', `o=test 1 1 IN IP4 ${address}`, 's=test', `c=IN IP4 ${address}`, 't=0 0',
    `m=audio ${audioPort} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv',
    `m=video ${videoPort} RTP/AVP 96`, 'a=rtpmap:96 H264/90000', 'a=sendrecv', '',
  ].join('\r\n');
}

describe('RTP relaying between two phones', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ interfaces: ['pub1/127.0.0.1', 'pub1/::1'], args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('relays both ways, each phone hearing from the relay port it sends to', async () => {
    const call = await MediaCall.establish(relay);
    call.callerSends(20, 0, 0xaaaa);
    call.calleeSends(20, 0, 0xbbbb);
    const atCallee = await call.callee.waitFor(20);
    const atCaller = await call.caller.waitFor(20);
    expect(new Set(atCallee.map((p) => `${p.address}:${p.port}`))).toEqual(new Set([`127.0.0.1:${call.toCallee.port}`]));
    expect(new Set(atCaller.map((p) => `${p.address}:${p.port}`))).toEqual(new Set([`127.0.0.1:${call.toCaller.port}`]));
    // Payload passes untouched, in order.
    expect(atCallee.map((p) => p.data.readUInt16BE(2))).toEqual([...Array(20).keys()]);
    expect(atCallee.every((p) => p.data.equals(rtpPacket(p.data.readUInt16BE(2), 0xaaaa)))).toBe(true);
    expect(atCaller.every((p) => p.data.readUInt32BE(8) === 0xbbbb)).toBe(true);
    await call.delete();
    call.close();
  });

  it('relays audio and video of one call independently', async () => {
    const callerVideo = await RtpEndpoint.open();
    const calleeVideo = await RtpEndpoint.open();
    const call = await MediaCall.open(relay, {
      callerSdp: (c) => avSdp('127.0.0.1', c.port, callerVideo.port),
      calleeSdp: (c) => avSdp('127.0.0.1', c.port, calleeVideo.port),
    });
    await call.offer();
    await call.answer();
    const offerVideo = readSdp(call.offerSdp).medias[1]!;
    const answerVideo = readSdp(call.answerSdp).medias[1]!;
    expect(offerVideo.type).toBe('video');
    expect(new Set([call.toCallee.port, call.toCaller.port, offerVideo.port, answerVideo.port]).size).toBe(4);

    call.callerSends(5, 0, 0xa0d1);
    for (let i = 0; i < 7; i++) callerVideo.send(rtpPacket(i, 0x71de0, 96), answerVideo.port, '127.0.0.1');
    for (let i = 0; i < 9; i++) calleeVideo.send(rtpPacket(i, 0x71de1, 96), offerVideo.port, '127.0.0.1');
    await call.callee.waitFor(5);
    await calleeVideo.waitFor(7);
    await callerVideo.waitFor(9);
    await sleep(100);
    // Audio went to the audio socket only, video to the video sockets only.
    expect(call.callee.received.every((p) => p.data.readUInt32BE(8) === 0xa0d1)).toBe(true);
    expect(calleeVideo.received.every((p) => p.data.readUInt32BE(8) === 0x71de0 && p.port === offerVideo.port)).toBe(true);
    expect(callerVideo.received.every((p) => p.data.readUInt32BE(8) === 0x71de1 && p.port === answerVideo.port)).toBe(true);
    expect(call.caller.received).toHaveLength(0);
    const q = await call.query();
    const video = (q['tags'] as Record<string, { medias: { type: string; streams: { stats: { packets: number } }[] }[] }>)['caller']!.medias[1]!;
    expect(video.type).toBe('video');
    expect(video.streams[0]!.stats.packets).toBe(7);
    await call.delete();
    call.close();
    callerVideo.close();
    calleeVideo.close();
  });

  it('relays over IPv6 on ::1 with address family IP6', async () => {
    const call = await MediaCall.open(relay, { address: '::1', offer: { 'address family': 'IP6' } });
    await call.offer();
    await call.answer();
    expect(call.toCallee.address).toBe('::1');
    expect(call.toCaller.address).toBe('::1');
    expect(call.offerSdp).toContain('c=IN IP6 ::1');
    call.callerSends(10);
    call.calleeSends(10);
    const atCallee = await call.callee.waitFor(10);
    const atCaller = await call.caller.waitFor(10);
    expect(atCallee.every((p) => p.address === '::1' && p.port === call.toCallee.port)).toBe(true);
    expect(atCaller.every((p) => p.address === '::1' && p.port === call.toCaller.port)).toBe(true);
    const sessions = await relay.cli('list numsessions');
    expect(sessions).toContain('Current sessions ipv6 only media: 1');
    await call.delete();
    call.close();
  });

  it('keeps media flowing through hold (sendonly / recvonly) and resume', async () => {
    const call = await MediaCall.establish(relay);
    const { caller, callee } = call;
    call.callerSends(5, 0);
    await callee.waitFor(5);
    // Caller puts the callee on hold and plays music on hold; the callee answers recvonly.
    await call.reinvite(audioSdp('127.0.0.1', caller.port, { direction: 'sendonly' }), audioSdp('127.0.0.1', callee.port, { direction: 'recvonly' }));
    expect(readSdp(call.answerSdp).medias[0]!.direction).toBe('recvonly');
    call.callerSends(5, 5);
    await callee.waitFor(10);
    // Resume.
    await call.reinvite(audioSdp('127.0.0.1', caller.port), audioSdp('127.0.0.1', callee.port));
    call.callerSends(5, 10);
    call.calleeSends(5, 0);
    await callee.waitFor(15);
    await caller.waitFor(5);
    expect(callee.received.map((p) => p.data.readUInt16BE(2))).toEqual([...Array(15).keys()]);
    // The relay ports did not change across the re-INVITEs.
    expect(new Set(callee.received.map((p) => p.port)).size).toBe(1);
    await call.delete();
    call.close();
  });

  it('re-learns when a re-INVITE moves the callee to a new address, without dropping the call', async () => {
    const call = await MediaCall.establish(relay);
    call.callerSends(3, 0);
    call.calleeSends(3, 0);
    await call.callee.waitFor(3);
    await call.caller.waitFor(3);
    const moved = await RtpEndpoint.open('127.0.0.1');
    await call.reinvite(audioSdp('127.0.0.1', call.caller.port), audioSdp('127.0.0.1', moved.port));
    // Relay ports stay the same for both phones.
    expect(readSdp(call.answerSdp).medias[0]!.port).toBe(call.toCaller.port);
    call.callerSends(4, 3);
    await moved.waitFor(4);
    for (let i = 0; i < 4; i++) moved.send(rtpPacket(100 + i, 0x2222), call.toCallee.port, '127.0.0.1');
    await call.caller.waitFor(7);
    await sleep(100);
    expect(call.callee.received).toHaveLength(3);
    expect(moved.received.every((p) => p.port === call.toCallee.port)).toBe(true);
    const q = await call.query();
    expect(Object.keys(q['tags'] as object).sort()).toEqual(['callee', 'caller']);
    await call.delete();
    call.close();
    moved.close();
  });
});

describe('media ports of a small pool', () => {
  let relay: Relay;
  let portMin: number;
  beforeAll(async () => {
    // Room for exactly one call: two parties x RTP/RTCP.
    portMin = await quietRange(4);
    relay = await Relay.start({ portMin, portMax: portMin + 3, args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('are freed when a call ends and serve the next call', async () => {
    const first = await MediaCall.establish(relay);
    expect([first.toCallee.port, first.toCaller.port].sort()).toEqual([portMin, portMin + 2]);
    const full = await relay.ng.request({ command: 'offer', 'call-id': uniqueCallId('full'), 'from-tag': 'x', sdp: audioSdp('127.0.0.1', 4000) });
    expect(full['result']).toBe('error');
    expect(full['error-reason']).toBe('Ran out of ports');
    await first.delete();
    first.close();
    expect(await relay.cli('list interfaces')).toContain('Ports used:     0 /     4');
    // The same ports bind again for a new call, and media flows through them.
    const second = await MediaCall.establish(relay);
    expect([second.toCallee.port, second.toCaller.port].sort()).toEqual([portMin, portMin + 2]);
    second.callerSends(3);
    second.calleeSends(3);
    await second.callee.waitFor(3);
    await second.caller.waitFor(3);
    await second.delete();
    second.close();
    await waitFor('ports freed', async () => (await relay.cli('list interfaces')).includes('Ports used:     0 /     4'));
  });
});
