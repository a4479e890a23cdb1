import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpusDecoder } from '../../src/media/codecs/Opus.js';
import { PcmuDecoder, PcmuEncoder } from '../../src/media/codecs/Pcmu.js';
import { dominantFrequency, snr, tone } from '../helpers/audio.js';
import { Relay, waitFor } from '../helpers/Relay.js';
import { RtpEndpoint } from '../helpers/RtpEndpoint.js';
import { CHROMIUM, CHROMIUM_ARGS, FRAME, PAGE } from '../helpers/webrtcPage.js';

const text = (b: Uint8Array | number[]): string => Buffer.from(b).subarray(0, 12).toString('latin1').replace(/\0.*$/, '');

function sr(ssrc: number, packets: number): Buffer {
  const p = Buffer.alloc(28);
  p[0] = 0x80;
  p[1] = 200;
  p.writeUInt16BE(6, 2);
  p.writeUInt32BE(ssrc, 4);
  p.writeUInt32BE(packets, 20);
  p.writeUInt32BE(packets * FRAME, 24);
  return p;
}

/** Plain RTP (PCMU, known payloads, a sender report now and then) and the browser's frames, both ways, checked byte for byte. */
async function mediaBothWays(page: Page, plain: RtpEndpoint, relayRtp: number, relayRtcp: number): Promise<void> {
  plain.received.length = 0;
  // The plain side talks PCMU with known payloads, and an RTCP sender report now and then.
  let seq = 0;
  const ssrc = 0x5150;
  const timer = setInterval(() => {
    const p = Buffer.alloc(12 + FRAME);
    p[0] = 0x80;
    p.writeUInt16BE(seq, 2);
    p.writeUInt32BE(seq * FRAME, 4);
    p.writeUInt32BE(ssrc, 8);
    p.write(`P2B:${seq}`, 12, 'latin1');
    plain.send(p, relayRtp, '127.0.0.1');
    if (seq % 25 === 0) plain.send(sr(ssrc, seq), relayRtcp, '127.0.0.1');
    seq++;
  }, 20);
  try {
    await waitFor('ICE and DTLS to connect', async () => (await page.evaluate(() => (window as unknown as { states(): { conn: string } }).states())).conn === 'connected', 20_000, 200);
    // Browser to plain: decrypted RTP whose payloads are the browser's frames, in order; and RTCP.
    await waitFor('browser frames at the plain endpoint', () => plain.received.filter((r) => r.data[1] === 0 || r.data[1] === 0x80).length >= 100, 20_000, 100);
    const rtp = plain.received.filter((r) => r.data.length === 12 + FRAME && (r.data[1]! & 0x7f) === 0).map((r) => r.data);
    const frames = rtp.map((d) => text(d.subarray(12)));
    expect(frames.every((f) => /^B2P:\d+$/.test(f))).toBe(true);
    const numbers = frames.map((f) => Number(f.slice(4)));
    expect(numbers.slice(1).every((n, i) => n > numbers[i]!)).toBe(true);
    for (const d of rtp) expect(d.subarray(12 + text(d.subarray(12)).length)).toEqual(Buffer.alloc(FRAME - text(d.subarray(12)).length));
    await waitFor('browser RTCP at the plain endpoint', () => plain.received.some((r) => r.data[1]! >= 200 && r.data[1]! <= 204), 20_000, 100);
    const rtcp = plain.received.filter((r) => r.data[1]! >= 200 && r.data[1]! <= 204).map((r) => r.data);
    for (const d of rtcp) expect((d.readUInt16BE(2) + 1) * 4).toBeLessThanOrEqual(d.length);

    // Plain to browser: the frames the browser's receiver sees are ours, byte for byte; our SR arrived.
    await waitFor('plain frames in the browser', async () => (await page.evaluate(() => (window as unknown as { received: number[][] }).received.length)) >= 100, 20_000, 200);
    const got = await page.evaluate(() => (window as unknown as { received: number[][] }).received);
    for (const f of got) {
      const t = text(f);
      expect(t).toMatch(/^P2B:\d+$/);
      const want = Buffer.alloc(FRAME);
      want.write(t, 0, 'latin1');
      expect(Buffer.from(f)).toEqual(want);
    }
    await waitFor('our RTCP sender report in the browser', async () => (await page.evaluate(() => (window as unknown as { remoteSr(): Promise<number> }).remoteSr())) > 0, 20_000, 250);
  } finally {
    clearInterval(timer);
  }
}

type Win = {
  start(o?: object): Promise<string>;
  answerOffer(s: string, o?: object): Promise<string>;
  answer(s: string): Promise<void>;
  videoReceived(): Promise<number>;
};
const vp8Of = (sdp: string): number => Number(/^a=rtpmap:(\d+) VP8\/90000/m.exec(sdp)![1]);
const videoSection = (sdp: string): string => sdp.slice(sdp.indexOf('m=video'));

/**
 * Video between the browser and the phone's video port while audio is checked: the phone's
 * VP8-typed packets reach the browser's video receiver (its packet count), the browser's video
 * reaches the phone's video port only, with its VP8 payload type and its video SSRCs, and no
 * video reaches the phone's audio port.
 */
async function withVideo(page: Page, video: RtpEndpoint, relayVideo: number, vp8: number, ssrcs: Set<number>, audio: () => Promise<void>, plain: RtpEndpoint): Promise<void> {
  video.received.length = 0;
  let seq = 0;
  const timer = setInterval(() => {
    const p = Buffer.alloc(12 + 100);
    p[0] = 0x80;
    p[1] = vp8 | (seq % 3 === 2 ? 0x80 : 0);
    p.writeUInt16BE(seq, 2);
    p.writeUInt32BE(seq * 3000, 4);
    p.writeUInt32BE(0x7171, 8);
    video.send(p, relayVideo, '127.0.0.1');
    seq++;
  }, 20);
  try {
    await audio();
    await waitFor('the phone\'s video in the browser', async () => (await page.evaluate(() => (window as unknown as Win).videoReceived())) >= 20, 20_000, 200);
    await waitFor('the browser\'s video at the phone', () => video.received.filter((r) => (r.data[1]! & 0x7f) === vp8).length >= 20, 20_000, 100);
    const rtp = video.received.filter((r) => r.data[1]! < 200 || r.data[1]! > 204);
    expect(new Set(rtp.map((r) => r.data[1]! & 0x7f))).toEqual(new Set([vp8]));
    expect([...new Set(rtp.map((r) => r.data.readUInt32BE(8)))].every((x) => ssrcs.has(x))).toBe(true);
    expect(plain.received.some((r) => (r.data[1]! & 0x7f) === vp8)).toBe(false);
  } finally {
    clearInterval(timer);
  }
}

// Chromium (libwebrtc) as the browser: its offer goes through ngrelay the way Kamailio's WebRTC
// examples send it (RTP/AVP, ICE removed, DTLS off, rtcp-mux demuxed towards SIP) to a plain RTP
// endpoint, and back (UDP/TLS/RTP/SAVPF, ICE): ICE-lite, DTLS-SRTP and SRTP/SRTCP both ways.
describe('WebRTC browser to plain RTP through ngrelay', () => {
  let relay: Relay;
  let browser: BrowserContext;
  let page: Page;
  let server: http.Server;
  let profile: string;
  let plain: RtpEndpoint;

  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0'] });
    server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    profile = mkdtempSync(join(tmpdir(), 'wr-chromium-'));
    // A fresh profile directory each run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`);
    plain = await RtpEndpoint.open();
  }, 60_000);

  afterAll(async () => {
    plain?.close();
    await browser?.close();
    server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    expect(await relay.stop()).toBe(0);
  });

  it('max-bundle with audio and video (bundle-accept): one port towards the browser, a port per m= line towards the phone', async () => {
    const video = await RtpEndpoint.open();
    const offer = await page.evaluate((o) => (window as unknown as Win).start(o), { bundlePolicy: 'max-bundle', video: true });
    expect(offer).toMatch(/^a=group:BUNDLE 0 1$/m);
    const flags = { ICE: 'remove', 'transport-protocol': 'RTP/AVP', DTLS: 'off', 'rtcp-mux': ['demux'], replace: ['origin'] };
    const o = await relay.ng.ok({ command: 'offer', 'call-id': 'webrtc-3', 'from-tag': 'browser', sdp: offer, ...flags, bundle: ['accept'] });
    const sipOffer = String(o['sdp']);
    expect(sipOffer).not.toMatch(/a=group:/);
    const [audioPort, videoPort] = [...sipOffer.matchAll(/^m=\w+ (\d+)/gm)].map((m) => Number(m[1]));
    const [audioRtcp, videoRtcp] = [...sipOffer.matchAll(/^a=rtcp:(\d+)/gm)].map((m) => Number(m[1]));
    expect(new Set([audioPort, videoPort, audioRtcp, videoRtcp]).size).toBe(4);
    const vp8 = vp8Of(offer);
    const sipAnswer = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
      `m=audio ${plain.port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', `a=rtcp:${plain.port}`,
      `m=video ${video.port} RTP/AVP ${vp8}`, `a=rtpmap:${vp8} VP8/90000`, 'a=sendrecv', `a=rtcp:${video.port + 1}`, ''].join('\r\n');
    const a = await relay.ng.ok({ command: 'answer', 'call-id': 'webrtc-3', 'from-tag': 'browser', 'to-tag': 'sip', sdp: sipAnswer, ICE: 'force', 'transport-protocol': 'UDP/TLS/RTP/SAVPF', 'rtcp-mux': ['require'] });
    const webAnswer = String(a['sdp']);
    expect(webAnswer).toMatch(/^a=group:BUNDLE 0 1$/m);
    const ports = [...webAnswer.matchAll(/^m=\w+ (\d+) UDP\/TLS\/RTP\/SAVPF/gm)].map((m) => Number(m[1]));
    expect(ports).toHaveLength(2);
    expect(ports[0]).toBe(ports[1]);
    await page.evaluate((sdp) => (window as unknown as Win).answer(sdp), webAnswer);
    const ssrcs = new Set([...videoSection(offer).matchAll(/^a=ssrc:(\d+)/gm)].map((m) => Number(m[1])));
    await withVideo(page, video, videoPort!, vp8, ssrcs, () => mediaBothWays(page, plain, audioPort!, audioRtcp!), plain);
    await relay.ng.ok({ command: 'delete', 'call-id': 'webrtc-3', 'from-tag': 'browser' });
    video.close();
  }, 90_000);

  it('the other way with max-bundle, audio and video (bundle-offer): SIP offers a port per m= line, the browser gets one', async () => {
    const video = await RtpEndpoint.open();
    const sipOffer = ['v=0', 'o=- 2 2 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
      `m=audio ${plain.port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', `a=rtcp:${plain.port}`,
      `m=video ${video.port} RTP/AVP 100`, 'a=rtpmap:100 VP8/90000', 'a=sendrecv', `a=rtcp:${video.port + 1}`, ''].join('\r\n');
    const o = await relay.ng.ok({ command: 'offer', 'call-id': 'webrtc-4', 'from-tag': 'sip', sdp: sipOffer, ICE: 'force', 'transport-protocol': 'UDP/TLS/RTP/SAVPF', 'rtcp-mux': ['offer'], flags: ['SDES-off'], bundle: ['offer'] });
    const webOffer = String(o['sdp']);
    expect(webOffer).toMatch(/^a=group:BUNDLE 1 2$/m);
    const answer = await page.evaluate(([sdp, opts]) => (window as unknown as Win).answerOffer(sdp as string, opts as object), [webOffer, { bundlePolicy: 'max-bundle', video: true }] as const);
    expect(answer).toMatch(/^a=group:BUNDLE 1 2$/m);
    const a = await relay.ng.ok({ command: 'answer', 'call-id': 'webrtc-4', 'from-tag': 'sip', 'to-tag': 'browser', sdp: answer, ICE: 'remove', 'transport-protocol': 'RTP/AVP', 'rtcp-mux': ['demux'] });
    const sipAnswer = String(a['sdp']);
    expect(sipAnswer).not.toMatch(/a=group:/);
    const [audioPort, videoPort] = [...sipAnswer.matchAll(/^m=\w+ (\d+)/gm)].map((m) => Number(m[1]));
    const [audioRtcp] = [...sipAnswer.matchAll(/^a=rtcp:(\d+)/gm)].map((m) => Number(m[1]));
    expect(audioPort).not.toBe(videoPort);
    const ssrcs = new Set([...videoSection(answer).matchAll(/^a=ssrc:(\d+)/gm)].map((m) => Number(m[1])));
    await withVideo(page, video, videoPort!, 100, ssrcs, () => mediaBothWays(page, plain, audioPort!, audioRtcp!), plain);
    await relay.ng.ok({ command: 'delete', 'call-id': 'webrtc-4', 'from-tag': 'sip' });
    video.close();
  }, 90_000);

  // The browser's default bundle policy (balanced), its audio answered bundled (a group of one).
  it('carries audio frames intact both ways, and RTCP both ways, across an ICE restart, hold and resume', async () => {
    const offer = await page.evaluate(() => (window as unknown as { start(): Promise<string> }).start());
    expect(offer).toMatch(/UDP\/TLS\/RTP\/SAVPF/);
    const o = await relay.ng.ok({ command: 'offer', 'call-id': 'webrtc-1', 'from-tag': 'browser', sdp: offer, ICE: 'remove', 'transport-protocol': 'RTP/AVP', DTLS: 'off', 'rtcp-mux': ['demux'], replace: ['origin'], bundle: ['accept'] });
    const sipOffer = String(o['sdp']);
    expect(sipOffer).toMatch(/^m=audio \d+ RTP\/AVP /m);
    expect(sipOffer).not.toMatch(/a=(fingerprint|setup|ice-|candidate|crypto|rtcp-mux)/);
    const relayRtp = Number(/^m=audio (\d+)/m.exec(sipOffer)![1]);
    const relayRtcp = Number(/^a=rtcp:(\d+)/m.exec(sipOffer)![1]);

    const sipAnswer = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', `m=audio ${plain.port} RTP/AVP 0`, 'c=IN IP4 127.0.0.1', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', `a=rtcp:${plain.port}`, ''].join('\r\n');
    const a = await relay.ng.ok({ command: 'answer', 'call-id': 'webrtc-1', 'from-tag': 'browser', 'to-tag': 'sip', sdp: sipAnswer, ICE: 'force', 'transport-protocol': 'UDP/TLS/RTP/SAVPF', 'rtcp-mux': ['require'] });
    const webAnswer = String(a['sdp']);
    expect(webAnswer).toMatch(/^a=group:BUNDLE 0$/m);
    expect(webAnswer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0$/m);
    expect(webAnswer).toMatch(/^a=setup:active$/m);
    expect(webAnswer).toMatch(/^a=fingerprint:sha-256 [0-9A-F:]{95}$/m);
    // A full ICE agent, as rtpengine: the browser (controlling) nominates once checks both ways work.
    expect(webAnswer).not.toMatch(/^a=ice-lite$/m);
    await page.evaluate((sdp) => (window as unknown as { answer(s: string): Promise<void> }).answer(sdp), webAnswer);

    await mediaBothWays(page, plain, relayRtp, relayRtcp);

    // ICE restart: the browser re-offers with new credentials, gets new ones back, media goes on.
    const ufrag = (s: string): string => /^a=ice-ufrag:(\S+)/m.exec(s)![1]!;
    const reOffer = await page.evaluate(() => (window as unknown as { restart(): Promise<string> }).restart());
    expect(ufrag(reOffer)).not.toBe(ufrag(offer));
    const ro = await relay.ng.ok({ command: 'offer', 'call-id': 'webrtc-1', 'from-tag': 'browser', 'to-tag': 'sip', sdp: reOffer, ICE: 'remove', 'transport-protocol': 'RTP/AVP', DTLS: 'off', 'rtcp-mux': ['demux'], replace: ['origin'], bundle: ['accept'] });
    expect(Number(/^m=audio (\d+)/m.exec(String(ro['sdp']))![1])).toBe(relayRtp);
    const ra = await relay.ng.ok({ command: 'answer', 'call-id': 'webrtc-1', 'from-tag': 'browser', 'to-tag': 'sip', sdp: sipAnswer, ICE: 'force', 'transport-protocol': 'UDP/TLS/RTP/SAVPF', 'rtcp-mux': ['require'] });
    const reAnswer = String(ra['sdp']);
    expect(ufrag(reAnswer)).not.toBe(ufrag(webAnswer));
    expect(/^a=fingerprint:.*$/m.exec(reAnswer)![0]).toBe(/^a=fingerprint:.*$/m.exec(webAnswer)![0]);
    await page.evaluate((sdp) => (window as unknown as { answer(s: string): Promise<void> }).answer(sdp), reAnswer);
    await mediaBothWays(page, plain, relayRtp, relayRtcp);

    // Hold and resume: re-INVITEs with a=sendonly, then a=sendrecv, through the relay both ways.
    const reinvite = async (direction: string, answerDirection: string): Promise<string> => {
      const sdpOut = await page.evaluate((d) => (window as unknown as { reoffer(d: string): Promise<string> }).reoffer(d), direction);
      const r = await relay.ng.ok({ command: 'offer', 'call-id': 'webrtc-1', 'from-tag': 'browser', 'to-tag': 'sip', sdp: sdpOut, ICE: 'remove', 'transport-protocol': 'RTP/AVP', DTLS: 'off', 'rtcp-mux': ['demux'], replace: ['origin'], bundle: ['accept'] });
      expect(String(r['sdp'])).toMatch(new RegExp(`^a=${direction}$`, 'm'));
      const back = await relay.ng.ok({ command: 'answer', 'call-id': 'webrtc-1', 'from-tag': 'browser', 'to-tag': 'sip', sdp: sipAnswer.replace('a=sendrecv', `a=${answerDirection}`), ICE: 'force', 'transport-protocol': 'UDP/TLS/RTP/SAVPF', 'rtcp-mux': ['require'] });
      const backSdp = String(back['sdp']);
      expect(backSdp).toMatch(new RegExp(`^a=${answerDirection}$`, 'm'));
      await page.evaluate((sdp) => (window as unknown as { answer(s: string): Promise<void> }).answer(sdp), backSdp);
      return backSdp;
    };
    await reinvite('sendonly', 'recvonly');
    await reinvite('sendrecv', 'sendrecv');
    await mediaBothWays(page, plain, relayRtp, relayRtcp);
    await relay.ng.ok({ command: 'delete', 'call-id': 'webrtc-1', 'from-tag': 'browser' });
  }, 90_000);

  // libwebrtc offering opus only, to a PCMU-only phone: the relay converts both ways.
  it('an opus-only browser and a PCMU-only phone (transcode PCMU, mask opus): tones converted both ways', async () => {
    const offer = await page.evaluate((o) => (window as unknown as Win).start(o), { tone: 440, opusOnly: true });
    expect(offer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 111$/m);
    const o = await relay.ng.ok({ command: 'offer', 'call-id': 'webrtc-opus', 'from-tag': 'browser', sdp: offer, ICE: 'remove', 'transport-protocol': 'RTP/AVP', DTLS: 'off', 'rtcp-mux': ['demux'], replace: ['origin'], codec: { transcode: ['PCMU'], mask: ['opus'] } });
    const sipOffer = String(o['sdp']);
    expect(sipOffer).toMatch(/^m=audio \d+ RTP\/AVP 0$/m);
    const sipAnswer = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', `m=audio ${plain.port} RTP/AVP 0`, 'c=IN IP4 127.0.0.1', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', `a=rtcp:${plain.port}`, ''].join('\r\n');
    const a = await relay.ng.ok({ command: 'answer', 'call-id': 'webrtc-opus', 'from-tag': 'browser', 'to-tag': 'sip', sdp: sipAnswer, ICE: 'force', 'transport-protocol': 'UDP/TLS/RTP/SAVPF', 'rtcp-mux': ['require'] });
    const webAnswer = String(a['sdp']);
    expect(webAnswer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 111$/m);
    expect(webAnswer).toMatch(/^a=rtpmap:111 opus\/48000\/2$/m);
    await page.evaluate((sdp) => (window as unknown as Win).answer(sdp), webAnswer);
    // The phone talks PCMU: a 1 kHz tone in 20 ms packets.
    plain.received.length = 0;
    const relayRtp = Number(/^m=audio (\d+)/m.exec(sipOffer)![1]);
    const pcm = tone({ freq: 1000, rate: 8000, samples: 8000 * 20, seed: 21 });
    const enc = new PcmuEncoder();
    let seq = 0;
    const timer = setInterval(() => {
      const p = Buffer.alloc(12 + FRAME);
      p[0] = 0x80;
      p.writeUInt16BE(seq, 2);
      p.writeUInt32BE(seq * FRAME, 4);
      p.writeUInt32BE(0x6160, 8);
      enc.encode(pcm.subarray((seq % 1000) * FRAME, (seq % 1000 + 1) * FRAME), FRAME, p.subarray(12));
      plain.send(p, relayRtp, '127.0.0.1');
      seq++;
    }, 20);
    try {
      // Browser to phone: PCMU carrying the browser's 440 Hz (one second once it flows).
      const pcmu = (): Buffer[] => plain.received.filter((r) => r.data.length === 12 + FRAME && (r.data[1]! & 0x7f) === 0).map((r) => r.data);
      await waitFor('the browser\'s tone at the phone', () => pcmu().length >= 100, 20_000, 100);
      const dec = new PcmuDecoder();
      const heard = new Int16Array(8000);
      pcmu().slice(50, 100).forEach((d, i) => dec.decode(d, 12, FRAME, heard.subarray(i * FRAME)));
      expect(dominantFrequency(heard, 8000, 200, 3800)).toBe(440);
      expect(snr(heard, 440, 8000)).toBeGreaterThan(15);
      // Phone to browser: the frames the browser receives are opus carrying the phone's 1 kHz.
      await waitFor('the phone\'s tone in the browser', async () => (await page.evaluate(() => (window as unknown as { received: number[][] }).received.length)) >= 100, 20_000, 200);
      // Decoded from the first frame on (opus frames depend on the ones before), measured on the second second.
      const frames = (await page.evaluate(() => (window as unknown as { received: number[][] }).received)).slice(0, 100);
      const opus = new OpusDecoder({ sampleRate: 8000 });
      const got = new Int16Array(8000 * 4);
      let n = 0;
      for (const f of frames) n += opus.decode(Uint8Array.from(f), 0, f.length, got.subarray(n));
      const steady = got.subarray(n - 8000, n);
      expect(dominantFrequency(steady, 8000, 200, 3800)).toBe(1000);
      expect(snr(steady, 1000, 8000)).toBeGreaterThan(15);
      process.stdout.write(`browser opus -> phone PCMU: SNR ${snr(heard, 440, 8000).toFixed(1)} dB; phone PCMU -> browser opus: SNR ${snr(steady, 1000, 8000).toFixed(1)} dB\n`);
    } finally {
      clearInterval(timer);
    }
    await relay.ng.ok({ command: 'delete', 'call-id': 'webrtc-opus', 'from-tag': 'browser' });
  }, 90_000);

  // The other way round: SIP calls the browser. The relay offers actpass; Chromium answers
  // a=setup:active, so here the relay is the DTLS server.
  it('the other way: a plain offer to the browser, the relay as DTLS server', async () => {
    const sipOffer = ['v=0', 'o=- 2 2 IN IP4 127.0.0.1', 's=-', 't=0 0', `m=audio ${plain.port} RTP/AVP 0`, 'c=IN IP4 127.0.0.1', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', `a=rtcp:${plain.port}`, ''].join('\r\n');
    const o = await relay.ng.ok({ command: 'offer', 'call-id': 'webrtc-2', 'from-tag': 'sip', sdp: sipOffer, ICE: 'force', 'transport-protocol': 'UDP/TLS/RTP/SAVPF', 'rtcp-mux': ['offer'], flags: ['SDES-off'] });
    const webOffer = String(o['sdp']);
    expect(webOffer).toMatch(/^a=setup:actpass$/m);
    const answer = await page.evaluate((sdp) => (window as unknown as { answerOffer(s: string): Promise<string> }).answerOffer(sdp), webOffer);
    expect(answer).toMatch(/^a=setup:active/m);
    const a = await relay.ng.ok({ command: 'answer', 'call-id': 'webrtc-2', 'from-tag': 'sip', 'to-tag': 'browser', sdp: answer, ICE: 'remove', 'transport-protocol': 'RTP/AVP', 'rtcp-mux': ['demux'] });
    const sipAnswer = String(a['sdp']);
    expect(sipAnswer).toMatch(/^m=audio \d+ RTP\/AVP 0/m);
    expect(sipAnswer).not.toMatch(/a=(fingerprint|setup|ice-|candidate|crypto)/);
    await mediaBothWays(page, plain, Number(/^m=audio (\d+)/m.exec(sipAnswer)![1]), Number(/^a=rtcp:(\d+)/m.exec(sipAnswer)![1]));
    await relay.ng.ok({ command: 'delete', 'call-id': 'webrtc-2', 'from-tag': 'sip' });
  }, 90_000);
});
