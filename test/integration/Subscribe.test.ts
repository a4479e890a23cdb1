import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PcmaDecoder } from '../../src/media/codecs/Pcma.js';
import { PcmuEncoder } from '../../src/media/codecs/Pcmu.js';
import { dominantFrequency, snr, tone } from '../helpers/audio.js';
import type { Dict } from '../helpers/NgClient.js';
import { freePort } from '../helpers/ports.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { MediaCall, paced } from '../helpers/MediaCall.js';
import { Relay, sleep } from '../helpers/Relay.js';
import { RtpEndpoint, rtpPacket } from '../helpers/RtpEndpoint.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';

/** A caller packet whose payload says who sent it and which one it is: copies are checked byte for byte. */
function marked(seq: number, ssrc: number): Buffer {
  const p = rtpPacket(seq, ssrc);
  p.writeUInt32BE(ssrc, 12);
  p.writeUInt16BE(seq, 16);
  return p;
}

/** A subscriber: its own phone socket, its tag, the relay's offer to it. */
interface Subscriber {
  phone: RtpEndpoint;
  reply: Dict;
}

async function subscribe(relay: Relay, call: MediaCall, keys: Dict): Promise<Subscriber> {
  const phone = await RtpEndpoint.open();
  const reply = await relay.ng.ok({ command: 'subscribe request', 'call-id': call.callId, ...keys });
  // The subscriber takes every codec offered (PCMU and telephone-event), receive-only.
  const answer = audioSdp('127.0.0.1', phone.port, { direction: 'recvonly' });
  await relay.ng.ok({ command: 'subscribe answer', 'call-id': call.callId, 'to-tag': reply['to-tag'], sdp: answer });
  return { phone, reply };
}

const seqs = (p: { data: Buffer }[]): number[] => p.map((x) => x.data.readUInt16BE(2));

async function metric(port: number, name: string): Promise<number | undefined> {
  return valueOf(parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()), name);
}

function suite(name: string, args: string[]): void {
  describe(name, () => {
    let relay: Relay;
    let httpPort: number;
    beforeAll(async () => {
      httpPort = await freePort();
      relay = await Relay.start({ args: ['--delete-delay=0', `--listen-http=127.0.0.1:${httpPort}`, ...args] });
    });
    afterAll(async () => {
      expect(await relay.stop()).toBe(0);
    });

    it('gives two concurrent subscribers of the caller every packet, byte for byte, and unsubscribe stops only one', async () => {
      const call = await MediaCall.establish(relay);
      const a = await subscribe(relay, call, { 'from-tag': 'caller', 'to-tag': 'sub-a' });
      const b = await subscribe(relay, call, { 'from-tag': 'caller' });
      expect(a.reply['from-tag']).toBe('caller');
      expect(a.reply['from-tags']).toEqual(['caller']);
      expect(a.reply['to-tag']).toBe('sub-a');
      expect(b.reply['to-tag']).toMatch(/^[0-9a-f]{64}$/);
      const offer = readSdp(a.reply['sdp'] as string);
      expect(offer.medias[0]!.direction).toBe('sendonly');
      expect(offer.lines).toContain('a=rtpmap:0 PCMU/8000');
      expect(offer.lines).toContain('a=rtpmap:101 telephone-event/8000');
      // One SDP mirroring one party keeps that party's o= line.
      expect(offer.lines).toContain('o=test 1234 1 IN IP4 127.0.0.1');
      // ... and its c= where it had it (at session level here).
      expect(offer.lines.indexOf('c=IN IP4 127.0.0.1')).toBeLessThan(offer.lines.indexOf('t=0 0'));

      await paced(30, 200, (i) => call.caller.send(marked(i, 0xca11), call.toCaller.port, '127.0.0.1'));
      call.calleeSends(30, 0, 0xbbbb);
      for (const sub of [a, b]) {
        const got = await sub.phone.waitFor(30);
        expect(seqs(got)).toEqual([...Array(30).keys()]);
        expect(got.every((p) => p.data.equals(marked(p.data.readUInt16BE(2), 0xca11)))).toBe(true);
        // From the port the relay offered it.
        expect(new Set(got.map((p) => p.port))).toEqual(new Set([readSdp(sub.reply['sdp'] as string).medias[0]!.port]));
      }
      // The parties' own media is untouched.
      const atCallee = await call.callee.waitFor(30);
      expect(atCallee.every((p) => p.data.equals(marked(p.data.readUInt16BE(2), 0xca11)))).toBe(true);
      expect((await call.caller.waitFor(30)).every((p) => p.data.readUInt32BE(8) === 0xbbbb)).toBe(true);
      expect(a.phone.received.some((p) => p.data.readUInt32BE(8) === 0xbbbb)).toBe(false);

      const q = await call.query();
      const tags = q['tags'] as Record<string, { subscribers: Dict[]; subscriptions: Dict[] }>;
      expect(tags['caller']!.subscribers).toEqual([
        { tag: 'callee', type: 'offer/answer' },
        { tag: 'sub-a', type: 'pub/sub' },
        { tag: b.reply['to-tag'], type: 'pub/sub' },
      ]);
      expect(tags['sub-a']!.subscriptions).toEqual([{ tag: 'caller', type: 'pub/sub' }]);

      expect(await metric(httpPort, 'ngrelay_subscribers')).toBe(2);
      await relay.ng.ok({ command: 'unsubscribe', 'call-id': call.callId, 'to-tag': 'sub-a' });
      expect(await metric(httpPort, 'ngrelay_subscribers')).toBe(1);
      expect(await metric(httpPort, 'ngrelay_subscriptions_ended_total')).toBe(1);
      a.phone.received.length = 0;
      b.phone.received.length = 0;
      call.callee.received.length = 0;
      await paced(20, 200, (i) => call.caller.send(marked(100 + i, 0xca11), call.toCaller.port, '127.0.0.1'));
      expect(seqs(await b.phone.waitFor(20))).toEqual([...Array(20).keys()].map((i) => 100 + i));
      expect(seqs(await call.callee.waitFor(20))).toEqual([...Array(20).keys()].map((i) => 100 + i));
      await sleep(100);
      expect(a.phone.received).toHaveLength(0);

      await call.delete();
      for (const s of [a, b]) s.phone.close();
      call.close();
    });

    it('subscribes to both parties with `all`: one m= line each, each carrying its party', async () => {
      const call = await MediaCall.establish(relay);
      const sub = await RtpEndpoint.open();
      const reply = await relay.ng.ok({ command: 'subscribe request', 'call-id': call.callId, flags: ['all'], 'to-tag': 'both' });
      expect(reply['from-tags']).toEqual(['caller', 'callee']);
      expect(reply['from-tag']).toBeUndefined();
      const offer = readSdp(reply['sdp'] as string);
      expect(offer.medias).toHaveLength(2);
      expect(offer.lines.some((l) => /^s=ngrelay-/.test(l))).toBe(true);
      // The subscriber receives both on one socket (two m= lines, one port).
      const answer = ['v=0', 'o=sub 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
        `m=audio ${sub.port} RTP/AVP 0 101`, 'a=rtpmap:101 telephone-event/8000', 'a=recvonly',
        `m=audio ${sub.port} RTP/AVP 0 101`, 'a=rtpmap:101 telephone-event/8000', 'a=recvonly', ''].join('\r\n');
      await relay.ng.ok({ command: 'subscribe answer', 'call-id': call.callId, 'to-tag': 'both', sdp: answer });
      call.callerSends(10, 0, 0xaaaa);
      call.calleeSends(10, 0, 0xbbbb);
      const got = await sub.waitFor(20);
      const bySsrc = (ssrc: number) => got.filter((p) => p.data.readUInt32BE(8) === ssrc);
      expect(seqs(bySsrc(0xaaaa))).toEqual([...Array(10).keys()]);
      expect(seqs(bySsrc(0xbbbb))).toEqual([...Array(10).keys()]);
      expect(new Set(bySsrc(0xaaaa).map((p) => p.port))).toEqual(new Set([offer.medias[0]!.port]));
      expect(new Set(bySsrc(0xbbbb).map((p) => p.port))).toEqual(new Set([offer.medias[1]!.port]));
      await call.delete();
      sub.close();
      call.close();
    });

    it('converts the copies for a subscriber that takes another codec (allow transcoding): PCMU caller, PCMA subscriber hears the tone', async () => {
      const call = await MediaCall.establish(relay);
      const sub = await RtpEndpoint.open();
      await relay.ng.ok({ command: 'subscribe request', 'call-id': call.callId, 'from-tag': 'caller', 'to-tag': 'alaw' });
      const pcma = ['v=0', 'o=sub 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${sub.port} RTP/AVP 8`, 'a=rtpmap:8 PCMA/8000', 'a=recvonly', ''].join('\r\n');
      await relay.ng.ok({ command: 'subscribe answer', 'call-id': call.callId, 'to-tag': 'alaw', sdp: pcma, flags: ['allow transcoding'] });
      // A second subscriber of the same caller takes PCMU: it gets the caller's own packets.
      const p = await subscribe(relay, call, { 'from-tag': 'caller' });
      const enc = new PcmuEncoder();
      const pcm = tone({ freq: 1000, rate: 8000, samples: 8000, seed: 7 });
      const frame = new Uint8Array(160);
      await paced(50, 100, (i) => {
        enc.encode(pcm.subarray(i * 160, (i + 1) * 160), 160, frame);
        const pkt = rtpPacket(i, 0x7070);
        pkt.set(frame, 12);
        call.caller.send(pkt, call.toCaller.port, '127.0.0.1');
      });
      const got = await sub.waitFor(45);
      expect(new Set(got.map((x) => x.data[1]! & 0x7f))).toEqual(new Set([8]));
      const dec = new PcmaDecoder();
      const audio = new Int16Array(8000);
      let n = 0;
      for (const x of got) n += dec.decode(x.data, 12, x.data.length - 12, audio.subarray(n));
      const steady = audio.subarray(800, n);
      expect(dominantFrequency(steady, 8000, 200, 3800)).toBe(1000);
      expect(snr(steady, 1000, 8000)).toBeGreaterThan(25);
      const same = await p.phone.waitFor(50);
      expect(same.every((x) => x.data.readUInt32BE(8) === 0x7070 && (x.data[1]! & 0x7f) === 0)).toBe(true);
      await call.delete();
      for (const e of [sub, p.phone]) e.close();
      call.close();
    });

    it('answers a publisher recvonly with one codec, and its subscriber gets what it sends', async () => {
      const callId = `pub-${name.length}-${process.pid}`;
      const publisher = await RtpEndpoint.open();
      const offer = ['v=0', 'o=cam 77 1 IN IP4 127.0.0.1', 's=stream', 'c=IN IP4 127.0.0.1', 't=0 0',
        `m=audio ${publisher.port} RTP/AVP 8 0 101`, 'a=rtpmap:101 telephone-event/8000', 'a=ptime:20', 'a=sendonly', ''].join('\r\n');
      const err = await relay.ng.request({ command: 'publish', 'call-id': callId, sdp: offer });
      expect(err['error-reason']).toBe('No from-tag in message');
      const r = await relay.ng.ok({ command: 'publish', 'call-id': callId, 'from-tag': 'cam', sdp: offer, codec: { accept: ['PCMU'] } });
      const answer = readSdp(r['sdp'] as string);
      expect(answer.medias[0]!.direction).toBe('recvonly');
      expect(answer.lines.filter((l) => l.startsWith('a=rtpmap:'))).toEqual(['a=rtpmap:0 PCMU/8000']);
      expect(answer.lines.find((l) => l.startsWith('m=audio'))).toMatch(/ RTP\/AVP 0$/);
      // Publishers are not dialogue parties: `all` finds none.
      expect((await relay.ng.request({ command: 'subscribe request', 'call-id': callId, flags: ['all'] }))['error-reason']).toBe('No call participant specified');
      const sub = await RtpEndpoint.open();
      const req = await relay.ng.ok({ command: 'subscribe request', 'call-id': callId, 'from-tag': 'cam', 'to-tag': 'viewer' });
      const toViewer = readSdp(req['sdp'] as string);
      expect(toViewer.lines).toContain('o=cam 77 1 IN IP4 127.0.0.1');
      expect(toViewer.lines.filter((l) => l.startsWith('a=rtpmap:'))).toEqual(['a=rtpmap:0 PCMU/8000']);
      const subSdp = ['v=0', 'o=v 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${sub.port} RTP/AVP 0`, 'a=recvonly', ''].join('\r\n');
      await relay.ng.ok({ command: 'subscribe answer', 'call-id': callId, 'to-tag': 'viewer', sdp: subSdp });
      for (let i = 0; i < 10; i++) publisher.send(marked(i, 0xcafe), answer.medias[0]!.port, '127.0.0.1');
      const got = await sub.waitFor(10);
      expect(got.map((p) => p.data.toString('hex'))).toEqual([...Array(10).keys()].map((i) => marked(i, 0xcafe).toString('hex')));
      await relay.ng.ok({ command: 'delete', 'call-id': callId });
      publisher.close();
      sub.close();
    });

    it('answers errors with rtpengine 10.5\'s texts', async () => {
      const call = await MediaCall.establish(relay);
      const err = async (d: Dict): Promise<unknown> => (await relay.ng.request(d))['error-reason'];
      const sdp = audioSdp('127.0.0.1', 4000);
      expect(await err({ command: 'subscribe request', 'from-tag': 'caller' })).toBe('No call-id in message');
      expect(await err({ command: 'subscribe request', 'call-id': 'no-such-call', 'from-tag': 'caller' })).toBe('Unknown call-ID');
      expect(await err({ command: 'subscribe request', 'call-id': call.callId, 'from-tag': 'nobody' })).toBe('From-tag given, but no such tag exists');
      expect(await err({ command: 'subscribe request', 'call-id': call.callId })).toBe('No monologues matched');
      expect(await err({ command: 'subscribe request', 'call-id': call.callId, 'from-tags': ['nobody'] })).toBe('No monologues matched');
      expect(await err({ command: 'subscribe request', 'call-id': call.callId, label: 'nobody' })).toBe('No monologue matching the given label');
      expect(await err({ command: 'subscribe answer', 'call-id': 'no-such-call', 'to-tag': 'x', sdp })).toBe('Unknown call-ID');
      expect(await err({ command: 'subscribe answer', 'call-id': call.callId, sdp })).toBe('No to-tag in message');
      expect(await err({ command: 'subscribe answer', 'call-id': call.callId, 'to-tag': 'x' })).toBe('No SDP body in message');
      expect(await err({ command: 'subscribe answer', 'call-id': call.callId, 'to-tag': 'x', sdp })).toBe('To-tag not found');
      expect(await err({ command: 'unsubscribe', 'call-id': 'no-such-call', 'to-tag': 'x' })).toBe('Unknown call-ID');
      expect(await err({ command: 'unsubscribe', 'call-id': call.callId })).toBe('No to-tag in message');
      // An unknown to-tag is no error (rtpengine answers ok too).
      expect((await relay.ng.request({ command: 'unsubscribe', 'call-id': call.callId, 'to-tag': 'x' }))['result']).toBe('ok');
      // An answer that drops an offered codec is refused unless `allow transcoding`.
      await relay.ng.ok({ command: 'subscribe request', 'call-id': call.callId, 'from-tag': 'caller', 'to-tag': 's' });
      const pcmuOnly = sdp.replace('RTP/AVP 0 101', 'RTP/AVP 0');
      expect(await err({ command: 'subscribe answer', 'call-id': call.callId, 'to-tag': 's', sdp: pcmuOnly })).toBe('Failed to process subscription answer');
      await relay.ng.ok({ command: 'subscribe answer', 'call-id': call.callId, 'to-tag': 's', sdp: pcmuOnly, flags: ['allow transcoding'] });
      await call.delete();
      call.close();
    });
  });
}

suite('subscriptions on media worker threads', []);
suite('subscriptions on the control thread', ['--num-threads=0']);
