import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundledCall, bundledSdp, bundlePacket, hex, PLAIN_FLAGS, phoneSdp } from '../helpers/BundledCall.js';
import { uniqueCallId } from '../helpers/MediaCall.js';
import type { Dict } from '../helpers/NgClient.js';
import { Relay } from '../helpers/Relay.js';
import { RtpEndpoint } from '../helpers/RtpEndpoint.js';
import { readSdp } from '../helpers/sdp.js';

const sessionGroups = (sdp: string): string[] => sdp.split('\r\n').filter((l) => l.startsWith('a=group:'));

describe('BUNDLE', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  const offer = (callId: string, sdp: string, extra: Dict = {}): Promise<Dict> =>
    relay.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': 'caller', sdp, ...PLAIN_FLAGS, ...extra });
  const answer = (callId: string, sdp: string, extra: Dict = {}): Promise<Dict> =>
    relay.ng.ok({ command: 'answer', 'call-id': callId, 'from-tag': 'caller', 'to-tag': 'callee', sdp, ...PLAIN_FLAGS, ...extra });

  it('answers a bundled offer on one port and demultiplexes it to an unbundled phone, both ways', async () => {
    // RFC 8843's bundle-only: the video section has port 0 and still goes through.
    const c = await BundledCall.place(relay, uniqueCallId('bundle'), { bundleOnly: true });
    const toPhone = readSdp(c.offerSdp);
    expect(sessionGroups(c.offerSdp)).toEqual([]);
    expect(toPhone.medias.map((m) => m.type)).toEqual(['audio', 'video']);
    expect(toPhone.medias[0]!.port).not.toBe(toPhone.medias[1]!.port);
    expect(toPhone.medias[1]!.port).not.toBe(0);
    const toCaller = readSdp(c.answerSdp);
    expect(sessionGroups(c.answerSdp)).toEqual(['a=group:BUNDLE a v']);
    expect(toCaller.medias.map((m) => [m.port, m.rtcpMux])).toEqual([[c.bundlePort, true], [c.bundlePort, true]]);
    expect(toCaller.lines.filter((l) => l.startsWith('a=mid:'))).toEqual(['a=mid:a', 'a=mid:v']);
    // By MID first, then the SSRC it taught, then a new SSRC by payload type; and back.
    await c.demultiplexes(30);
    await relay.ng.ok({ command: 'delete', 'call-id': c.callId, 'from-tag': 'caller' });
    c.close();
  });

  it('offers bundled with bundle=offer and relays the bundled answerer to the unbundled offerer', async () => {
    const phoneAudio = await RtpEndpoint.open();
    const phoneVideo = await RtpEndpoint.open();
    const browser = await RtpEndpoint.open();
    const callId = uniqueCallId('bundle-offer');
    const o = await offer(callId, phoneSdp(phoneAudio.port, phoneVideo.port), { bundle: ['offer'] });
    const toBrowser = readSdp(o['sdp'] as string);
    expect(sessionGroups(o['sdp'] as string)).toEqual(['a=group:BUNDLE 1 2']);
    const port = toBrowser.medias[0]!.port;
    expect(toBrowser.medias.map((m) => [m.port, m.rtcpMux])).toEqual([[port, true], [port, true]]);
    expect(toBrowser.lines.filter((l) => l.startsWith('a=mid:'))).toEqual(['a=mid:1', 'a=mid:2']);
    const answerSdp = bundledSdp(browser.port).replace('a=group:BUNDLE a v', 'a=group:BUNDLE 1 2').replace('a=mid:a', 'a=mid:1').replace('a=mid:v', 'a=mid:2');
    const a = await answer(callId, answerSdp);
    const toPhone = readSdp(a['sdp'] as string);
    expect(sessionGroups(a['sdp'] as string)).toEqual([]);
    expect(toPhone.medias[0]!.port).not.toBe(toPhone.medias[1]!.port);

    const audio = [bundlePacket(1, 0x1a, 0, '1'), bundlePacket(2, 0x1a, 0)];
    const video = [bundlePacket(1, 0x1b, 96, '2'), bundlePacket(2, 0x1b, 96)];
    for (let i = 0; i < 2; i++) {
      browser.send(audio[i]!, port, '127.0.0.1');
      browser.send(video[i]!, port, '127.0.0.1');
    }
    await phoneAudio.waitFor(2);
    await phoneVideo.waitFor(2);
    expect(hex(phoneAudio.received)).toEqual(hex(audio));
    expect(hex(phoneVideo.received)).toEqual(hex(video));
    const back = bundlePacket(5, 0x2b, 96);
    phoneVideo.send(back, toPhone.medias[1]!.port, '127.0.0.1');
    await browser.waitFor(1);
    expect(browser.received[0]!.data.equals(back)).toBe(true);
    expect(browser.received[0]!.port).toBe(port);
    await relay.ng.ok({ command: 'delete', 'call-id': callId, 'from-tag': 'caller' });
    for (const e of [browser, phoneAudio, phoneVideo]) e.close();
  });

  it('writes a=mid with generate-mid and drops a=extmap with strip-extmap', async () => {
    const extmap = ['a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level'];
    const callId = uniqueCallId('mid');
    const o = await offer(callId, phoneSdp(40000, 40002, extmap), { flags: ['generate-mid', 'strip-extmap'] });
    const lines = readSdp(o['sdp'] as string).lines;
    expect(lines.filter((l) => l.startsWith('a=mid:'))).toEqual(['a=mid:1', 'a=mid:2']);
    expect(lines.some((l) => l.startsWith('a=extmap'))).toBe(false);
    const plain = await offer(uniqueCallId('mid'), phoneSdp(40000, 40002, extmap));
    const kept = readSdp(plain['sdp'] as string).lines;
    expect(kept.filter((l) => l.startsWith('a=mid:') || l.startsWith('a=extmap'))).toEqual([...extmap, ...extmap]);
  });

  it('without a bundle option answers a bundled offer as rtpengine 10.5 does: no group, a port per m= line', async () => {
    const callId = uniqueCallId('nobundle');
    await offer(callId, bundledSdp(40004));
    const a = await answer(callId, phoneSdp(40000, 40002));
    const toBrowser = readSdp(a['sdp'] as string);
    expect(sessionGroups(a['sdp'] as string)).toEqual([]);
    expect(toBrowser.medias[0]!.port).not.toBe(toBrowser.medias[1]!.port);
    expect(toBrowser.lines.filter((l) => l.startsWith('a=mid:'))).toEqual(['a=mid:a', 'a=mid:v']);
    await relay.ng.ok({ command: 'delete', 'call-id': callId, 'from-tag': 'caller' });
  });
});
