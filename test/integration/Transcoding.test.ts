import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { G722Decoder, G722Encoder } from '../../src/media/codecs/G722.js';
import { G729Decoder, G729Encoder } from '../../src/media/codecs/G729.js';
import { GsmDecoder, GsmEncoder } from '../../src/media/codecs/Gsm.js';
import { OpusDecoder, OpusEncoder } from '../../src/media/codecs/Opus.js';
import { PcmaDecoder, PcmaEncoder } from '../../src/media/codecs/Pcma.js';
import { PcmuDecoder, PcmuEncoder } from '../../src/media/codecs/Pcmu.js';
import { SpeexDecoder, SpeexEncoder } from '../../src/media/codecs/Speex.js';
import type { Dict } from '../helpers/NgClient.js';
import { clusterRelay } from '../helpers/cluster.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { Relay, sleep, waitFor } from '../helpers/Relay.js';
import { RtpEndpoint } from '../helpers/RtpEndpoint.js';
import { readSdp } from '../helpers/sdp.js';
import { hear, pcmuDigitEight, sdp, type Side } from '../helpers/tones.js';

const PCMU: [number, string] = [0, 'PCMU/8000'];
const PCMA: [number, string] = [8, 'PCMA/8000'];
const TE: [number, string] = [101, 'telephone-event/8000'];
const OPUS: [number, string] = [111, 'opus/48000/2'];
const G722: [number, string] = [9, 'G722/8000'];
const G729: [number, string] = [18, 'G729/8000'];
const GSM: [number, string] = [3, 'GSM/8000'];

async function call(relay: Relay, id: string, offer: string, flags: Dict, answerSdp: (port: number) => string, callerPort: number): Promise<{ toCallee: ReturnType<typeof readSdp>; toCaller: ReturnType<typeof readSdp> }> {
  const common = { 'call-id': id, 'from-tag': 'A', replace: ['origin'] };
  const o = await relay.ng.ok({ ...common, command: 'offer', sdp: offer, ...flags });
  const toCallee = readSdp(o['sdp'] as string);
  const a = await relay.ng.ok({ ...common, command: 'answer', 'to-tag': 'B', sdp: answerSdp(callerPort) });
  return { toCallee, toCaller: readSdp(a['sdp'] as string) };
}

const m = (lines: string[]): string => lines.find((l) => l.startsWith('m=audio'))!.split(' ').slice(3).join(' ');

for (const reference of [false, true]) {
  describe(`transcoding through ${reference ? "Debian's rtpengine (reference)" : 'ngrelay'}`, () => {
    let relay: Relay;
    beforeAll(async () => {
      // At most 3 converted streams on ngrelay (each call below runs 2, one at a time).
      relay = await Relay.start({ rtpengine: reference, args: reference ? [] : ['--max-transcoded-media=3'] });
    });
    afterAll(async () => {
      await relay.stop();
    });

    it('PCMU+telephone-event offer with transcode PCMA, answered PCMA+telephone-event: tones arrive both ways', async () => {
      const caller = await RtpEndpoint.open();
      const callee = await RtpEndpoint.open();
      const { toCallee, toCaller } = await call(relay, `pcmu-pcma-${reference}`, sdp(caller.port, [PCMU, TE]), { codec: { transcode: ['PCMA'] } }, () => sdp(callee.port, [PCMA, TE]), caller.port);
      expect(m(toCallee.lines)).toBe('0 8 101');
      expect(toCallee.lines).toContain('a=rtpmap:8 PCMA/8000');
      expect(m(toCaller.lines)).toBe('0 101');
      const a: Side = { ep: caller, relayPort: toCaller.medias[0]!.port, pt: 0, enc: new PcmuEncoder(), dec: new PcmuDecoder(), clock: 8000 };
      const b: Side = { ep: callee, relayPort: toCallee.medias[0]!.port, pt: 8, enc: new PcmaEncoder(), dec: new PcmaDecoder(), clock: 8000 };
      const ab = await hear(a, b, 440, 1, 30, !reference);
      const ba = await hear(b, a, 1000, 2, 30, !reference);
      expect(ab.packets).toBeGreaterThanOrEqual(reference ? 45 : 50);
      expect(ba.packets).toBeGreaterThanOrEqual(reference ? 45 : 50);
      // The converted stream goes on from the sender's first sequence number and timestamp (own SSRC).
      if (!reference) expect([ab.first, ba.first]).toEqual([[100, 5000], [100, 5000]]);
      // A digit (RFC 4733) goes through on the payload type each side negotiated, end packets included.
      callee.received.length = 0;
      for (const [i, end] of [[0, false], [1, false], [2, true], [3, true], [4, true]] as const) {
        const d = 160 * (i + 1);
        const ev = Buffer.from([0x80, i === 0 ? 0x80 | 101 : 101, 0, 200 + i, 0, 0, 0x30, 0x00, 0, 0, 0x12, 0x34, 5, end ? 0x8a : 0x0a, d >> 8, d & 0xff]);
        caller.send(ev, a.relayPort, '127.0.0.1');
        await sleep(20);
      }
      const events = (await callee.waitFor(5)).filter((p) => (p.data[1]! & 0x7f) === 101);
      expect(events.map((p) => [p.data[12], p.data[13]! & 0x80, p.data.readUInt16BE(14)])).toEqual([
        [5, 0, 160], [5, 0, 320], [5, 0x80, 480], [5, 0x80, 640], [5, 0x80, 800],
      ]);
      await relay.ng.ok({ command: 'delete', 'call-id': `pcmu-pcma-${reference}`, 'from-tag': 'A' });
      caller.close();
      callee.close();
    });

    it('PCMU offer with transcode telephone-event: a digit the caller sends as tones reaches the callee as RFC 4733 events', async () => {
      const caller = await RtpEndpoint.open();
      const callee = await RtpEndpoint.open();
      const id = `inband-te-${reference}`;
      const { toCallee, toCaller } = await call(relay, id, sdp(caller.port, [PCMU]), { codec: { transcode: ['telephone-event'] } }, (port) => sdp(port, [PCMU, [96, 'telephone-event/8000']]), callee.port);
      expect(m(toCallee.lines)).toBe('0 96');
      expect(m(toCaller.lines)).toBe('0');
      // Two packets of silence, 60 ms of '8' (852 + 1336 Hz, -16 dBm0 per tone), silence again.
      for (const p of pcmuDigitEight()) {
        caller.send(p, toCaller.medias[0]!.port, '127.0.0.1');
        await sleep(20);
      }
      const got = (await callee.waitFor(11)).map((r) => r.data).sort((x, y) => ((x.readUInt16BE(2) - y.readUInt16BE(2) + 0x8000) & 0xffff) - 0x8000);
      // The digit is heard within the second tone packet: the third is the event's start (its
      // level -15 dBm0 as the detector measured it); the detector hears the end within the second
      // silent packet, so the one after is the end (three times).
      const seq0 = got[0]!.readUInt16BE(2);
      expect(got.slice(0, 11).map((d) => [d[1]! & 0x7f, d.readUInt16BE(2) - seq0, d.readUInt32BE(4) - 8000, d[1]! & 0x7f ? d.subarray(12).toString('hex') : ''])).toEqual([
        [0, 0, 0, ''], [0, 1, 160, ''], [0, 2, 320, ''], [0, 3, 480, ''],
        [96, 4, 640, '080f00a0'], [96, 5, 640, '080f0140'], [96, 6, 640, '080f01e0'], [96, 7, 640, '088f0280'], [96, 8, 640, '088f0280'], [96, 9, 640, '088f0280'],
        [0, 10, 1280, ''],
      ]);
      expect(got[4]![1]! & 0x80).toBe(0x80);
      await relay.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'A' });
      caller.close();
      callee.close();
    });

    it('PCMU offer with transcode G722, answered G722: narrowband tones arrive both ways', async () => {
      const caller = await RtpEndpoint.open();
      const callee = await RtpEndpoint.open();
      const { toCallee, toCaller } = await call(relay, `pcmu-g722-${reference}`, sdp(caller.port, [PCMU]), { codec: { transcode: ['G722'] } }, () => sdp(callee.port, [G722]), caller.port);
      expect(m(toCallee.lines)).toBe('0 9');
      expect(m(toCaller.lines)).toBe('0');
      const a: Side = { ep: caller, relayPort: toCaller.medias[0]!.port, pt: 0, enc: new PcmuEncoder(), dec: new PcmuDecoder(), clock: 8000 };
      const b: Side = { ep: callee, relayPort: toCallee.medias[0]!.port, pt: 9, enc: new G722Encoder(), dec: new G722Decoder(), clock: 8000 };
      const ab = await hear(a, b, 440, 5, 25, !reference);
      const ba = await hear(b, a, 1000, 6, 25, !reference);
      expect(ab.packets).toBeGreaterThanOrEqual(reference ? 45 : 49);
      expect(ba.packets).toBeGreaterThanOrEqual(reference ? 45 : 49);
      await relay.ng.ok({ command: 'delete', 'call-id': `pcmu-g722-${reference}`, 'from-tag': 'A' });
      caller.close();
      callee.close();
    });

    it('PCMA offer with transcode G729, answered G.729 without Annex B: tones arrive both ways', async () => {
      const caller = await RtpEndpoint.open();
      const callee = await RtpEndpoint.open();
      const { toCallee, toCaller } = await call(relay, `pcma-g729-${reference}`, sdp(caller.port, [PCMA]), { codec: { transcode: ['G729'] } }, () => sdp(callee.port, [G729], ['a=fmtp:18 annexb=no']), caller.port);
      expect(m(toCallee.lines)).toBe('8 18');
      expect(toCallee.lines).toContain('a=rtpmap:18 G729/8000');
      expect(toCallee.lines).toContain('a=fmtp:18 annexb=no');
      expect(m(toCaller.lines)).toBe('8');
      const a: Side = { ep: caller, relayPort: toCaller.medias[0]!.port, pt: 8, enc: new PcmaEncoder(), dec: new PcmaDecoder(), clock: 8000 };
      const b: Side = { ep: callee, relayPort: toCallee.medias[0]!.port, pt: 18, enc: new G729Encoder(), dec: new G729Decoder(), clock: 8000 };
      const ab = await hear(a, b, 440, 7, 15, !reference);
      const ba = await hear(b, a, 1000, 8, 15, !reference);
      expect(ab.packets).toBeGreaterThanOrEqual(reference ? 45 : 50);
      expect(ba.packets).toBeGreaterThanOrEqual(reference ? 45 : 50);
      await relay.ng.ok({ command: 'delete', 'call-id': `pcma-g729-${reference}`, 'from-tag': 'A' });
      caller.close();
      callee.close();
    });

    it('PCMU offer with transcode GSM, answered GSM only: tones arrive both ways', async () => {
      const caller = await RtpEndpoint.open();
      const callee = await RtpEndpoint.open();
      const { toCallee, toCaller } = await call(relay, `pcmu-gsm-${reference}`, sdp(caller.port, [PCMU]), { codec: { transcode: ['GSM'] } }, () => sdp(callee.port, [GSM]), caller.port);
      expect(m(toCallee.lines)).toBe('0 3');
      expect(toCallee.lines).toContain('a=rtpmap:3 GSM/8000');
      expect(toCallee.lines.filter((l) => l.startsWith('a=fmtp'))).toEqual([]);
      expect(m(toCaller.lines)).toBe('0');
      const a: Side = { ep: caller, relayPort: toCaller.medias[0]!.port, pt: 0, enc: new PcmuEncoder(), dec: new PcmuDecoder(), clock: 8000 };
      const b: Side = { ep: callee, relayPort: toCallee.medias[0]!.port, pt: 3, enc: new GsmEncoder(), dec: new GsmDecoder(), clock: 8000 };
      const ab = await hear(a, b, 440, 9, 20, !reference);
      const ba = await hear(b, a, 1000, 10, 20, !reference);
      expect(ab.packets).toBeGreaterThanOrEqual(reference ? 45 : 50);
      expect(ba.packets).toBeGreaterThanOrEqual(reference ? 45 : 50);
      await relay.ng.ok({ command: 'delete', 'call-id': `pcmu-gsm-${reference}`, 'from-tag': 'A' });
      caller.close();
      callee.close();
    });

    it('PCMU offer with transcode speex, answered wideband speex only: tones arrive both ways', async () => {
      const caller = await RtpEndpoint.open();
      const callee = await RtpEndpoint.open();
      const { toCallee, toCaller } = await call(relay, `pcmu-speex-${reference}`, sdp(caller.port, [PCMU]), { codec: { transcode: ['speex'] } }, () => sdp(callee.port, [[96, 'speex/16000']]), caller.port);
      expect(m(toCallee.lines)).toBe('0 96');
      expect(toCallee.lines).toContain('a=rtpmap:96 speex/16000');
      expect(toCallee.lines.filter((l) => l.startsWith('a=fmtp'))).toEqual([]);
      expect(m(toCaller.lines)).toBe('0');
      const a: Side = { ep: caller, relayPort: toCaller.medias[0]!.port, pt: 0, enc: new PcmuEncoder(), dec: new PcmuDecoder(), clock: 8000 };
      const b: Side = { ep: callee, relayPort: toCallee.medias[0]!.port, pt: 96, enc: new SpeexEncoder(16000), dec: new SpeexDecoder(16000), clock: 16000 };
      const ab = await hear(a, b, 440, 11, 10, !reference);
      const ba = await hear(b, a, 1000, 12, 10, !reference);
      expect(ab.packets).toBeGreaterThanOrEqual(reference ? 45 : 49);
      expect(ba.packets).toBeGreaterThanOrEqual(reference ? 45 : 49);
      await relay.ng.ok({ command: 'delete', 'call-id': `pcmu-speex-${reference}`, 'from-tag': 'A' });
      caller.close();
      callee.close();
    });

    it('opus-only offer with transcode PCMU and mask opus, answered PCMU: tones arrive both ways', async () => {
      const caller = await RtpEndpoint.open();
      const callee = await RtpEndpoint.open();
      const { toCallee, toCaller } = await call(relay, `opus-pcmu-${reference}`, sdp(caller.port, [OPUS], ['a=fmtp:111 minptime=10;useinbandfec=1']), { codec: { transcode: ['PCMU'], mask: ['opus'] } }, () => sdp(callee.port, [PCMU]), caller.port);
      expect(m(toCallee.lines)).toBe('0');
      expect(m(toCaller.lines)).toBe('111');
      expect(toCaller.lines).toContain('a=rtpmap:111 opus/48000/2');
      const a: Side = { ep: caller, relayPort: toCaller.medias[0]!.port, pt: 111, enc: new OpusEncoder(), dec: new OpusDecoder({ sampleRate: 8000 }), clock: 48000 };
      const b: Side = { ep: callee, relayPort: toCallee.medias[0]!.port, pt: 0, enc: new PcmuEncoder(), dec: new PcmuDecoder(), clock: 8000 };
      const ab = await hear(a, b, 440, 3, 12, !reference);
      const ba = await hear(b, a, 1000, 4, 12, !reference);
      expect(ab.packets).toBeGreaterThanOrEqual(reference ? 45 : 49);
      expect(ba.packets).toBeGreaterThanOrEqual(reference ? 45 : 49);
      await relay.ng.ok({ command: 'delete', 'call-id': `opus-pcmu-${reference}`, 'from-tag': 'A' });
      caller.close();
      callee.close();
    });

    // Of 50 packets through a rate conversion, 49 come out: the resampler holds back its start as
    // rtpengine's does, and the rest waits in the encoder for the next packet.
    // Mid-call changes on a converted call: each phase is checked by tones both ways at once.
    const both = async (a: Side, b: Side, seed: number, minSnr: number): Promise<void> => {
      const [ab, ba] = await Promise.all([hear(a, b, 440, seed, minSnr, !reference), hear(b, a, 1000, seed + 1, minSnr, !reference)]);
      expect(Math.min(ab.packets, ba.packets)).toBeGreaterThanOrEqual(reference ? 45 : 49);
    };
    /** An offer (re-INVITE) from `from` answered by `to`: the SDP each side then gets. */
    const reoffer = async (id: string, from: 'A' | 'B', offer: string, flags: Dict, answer: string): Promise<{ toOfferer: ReturnType<typeof readSdp>; toAnswerer: ReturnType<typeof readSdp> }> => {
      const tags = { 'call-id': id, 'from-tag': from, 'to-tag': from === 'A' ? 'B' : 'A', replace: ['origin'] };
      const o = await relay.ng.ok({ ...tags, command: 'offer', sdp: offer, ...flags });
      const a = await relay.ng.ok({ ...tags, command: 'answer', sdp: answer });
      return { toAnswerer: readSdp(o['sdp'] as string), toOfferer: readSdp(a['sdp'] as string) };
    };
    const pcmu = (ep: RtpEndpoint, relayPort: number): Side => ({ ep, relayPort, pt: 0, enc: new PcmuEncoder(), dec: new PcmuDecoder(), clock: 8000 });
    const pcma = (ep: RtpEndpoint, relayPort: number): Side => ({ ep, relayPort, pt: 8, enc: new PcmaEncoder(), dec: new PcmaDecoder(), clock: 8000 });
    const g722 = (ep: RtpEndpoint, relayPort: number): Side => ({ ep, relayPort, pt: 9, enc: new G722Encoder(), dec: new G722Decoder(), clock: 8000 });
    /** Three packets of `from`'s codec (20 ms apart), as sent. */
    const sendThree = async (from: Side): Promise<Buffer[]> => {
      const sent = [0, 1, 2].map((i) => {
        const p = Buffer.alloc(172, 0x55 + 17 * i);
        p[0] = 0x80;
        p[1] = from.pt;
        p.writeUInt16BE(400 + i, 2);
        p.writeUInt32BE(9000 + 160 * i, 4);
        p.writeUInt32BE(0x7777, 8);
        return p;
      });
      for (const p of sent) {
        from.ep.send(p, from.relayPort, '127.0.0.1');
        await sleep(20);
      }
      return sent;
    };
    /** Payloads that must arrive byte for byte (nothing converts them). */
    const passesUnchanged = async (from: Side, to: Side): Promise<void> => {
      to.ep.received.length = 0;
      const sent = await sendThree(from);
      const got = (await to.ep.waitFor(3)).filter((r) => (r.data[1]! & 0x7f) === from.pt).sort((x, y) => x.data.readUInt16BE(2) - y.data.readUInt16BE(2));
      expect(got.map((r) => r.data.subarray(12).toString('hex'))).toEqual(sent.map((p) => p.subarray(12).toString('hex')));
    };

    it('re-INVITE from the caller: converted PCMU/PCMA, then a shared PCMA passes unchanged, then PCMU/G722 is converted', async () => {
      const [caller, callee] = await Promise.all([RtpEndpoint.open(), RtpEndpoint.open()]);
      const id = `reinvite-${reference}`;
      // Converted as in the first case above (its tones are checked there).
      await call(relay, id, sdp(caller.port, [PCMU]), { codec: { transcode: ['PCMA'] } }, () => sdp(callee.port, [PCMA]), caller.port);
      // The caller now offers PCMA itself: the two sides share it, the relay converts nothing.
      const shared = await reoffer(id, 'A', sdp(caller.port, [PCMA]), {}, sdp(callee.port, [PCMA]));
      expect([m(shared.toAnswerer.lines), m(shared.toOfferer.lines)]).toEqual(['8', '8']);
      const [a, b] = [pcma(caller, shared.toOfferer.medias[0]!.port), pcma(callee, shared.toAnswerer.medias[0]!.port)];
      await passesUnchanged(a, b);
      await passesUnchanged(b, a);
      // Back to PCMU, this time towards a G.722-only callee: converted again, with the new codec.
      const wide = await reoffer(id, 'A', sdp(caller.port, [PCMU]), { codec: { transcode: ['G722'] } }, sdp(callee.port, [G722]));
      expect([m(wide.toAnswerer.lines), m(wide.toOfferer.lines)]).toEqual(['0 9', '0']);
      await both(pcmu(caller, wide.toOfferer.medias[0]!.port), g722(callee, wide.toAnswerer.medias[0]!.port), 25, 25);
      await relay.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'A' });
      caller.close();
      callee.close();
    });

    it('re-INVITE from the caller the other way: a shared PCMU call becomes converted PCMU/PCMA', async () => {
      const [caller, callee] = await Promise.all([RtpEndpoint.open(), RtpEndpoint.open()]);
      const id = `reinvite-convert-${reference}`;
      const first = await call(relay, id, sdp(caller.port, [PCMU]), {}, () => sdp(callee.port, [PCMU]), caller.port);
      const [a0, b0] = [pcmu(caller, first.toCaller.medias[0]!.port), pcmu(callee, first.toCallee.medias[0]!.port)];
      await passesUnchanged(a0, b0);
      await passesUnchanged(b0, a0);
      const conv = await reoffer(id, 'A', sdp(caller.port, [PCMU]), { codec: { transcode: ['PCMA'] } }, sdp(callee.port, [PCMA]));
      expect([m(conv.toAnswerer.lines), m(conv.toOfferer.lines)]).toEqual(['0 8', '0']);
      await both(pcmu(caller, conv.toOfferer.medias[0]!.port), pcma(callee, conv.toAnswerer.medias[0]!.port), 27, 30);
      await relay.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'A' });
      caller.close();
      callee.close();
    });

    it('re-INVITE from the callee on a converted call: it moves to G722 and is converted from PCMU again; then to PCMU, shared', async () => {
      const [caller, callee] = await Promise.all([RtpEndpoint.open(), RtpEndpoint.open()]);
      const id = `reverse-${reference}`;
      await call(relay, id, sdp(caller.port, [PCMU]), { codec: { transcode: ['PCMA'] } }, () => sdp(callee.port, [PCMA]), caller.port);
      // The callee offers G.722 only, asking for PCMU to be added: the caller keeps PCMU.
      const g = await reoffer(id, 'B', sdp(callee.port, [G722]), { codec: { transcode: ['PCMU'] } }, sdp(caller.port, [PCMU]));
      expect([m(g.toAnswerer.lines), m(g.toOfferer.lines)]).toEqual(['9 0', '9']);
      await both(g722(callee, g.toOfferer.medias[0]!.port), pcmu(caller, g.toAnswerer.medias[0]!.port), 29, 25);
      // The callee offers PCMU: shared, nothing converted.
      const s = await reoffer(id, 'B', sdp(callee.port, [PCMU]), {}, sdp(caller.port, [PCMU]));
      expect([m(s.toAnswerer.lines), m(s.toOfferer.lines)]).toEqual(['0', '0']);
      const [b, a] = [pcmu(callee, s.toOfferer.medias[0]!.port), pcmu(caller, s.toAnswerer.medias[0]!.port)];
      await passesUnchanged(b, a);
      await passesUnchanged(a, b);
      await relay.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'A' });
      caller.close();
      callee.close();
    });

    it('hold and resume of a converted call: sendonly still gets media, 0.0.0.0 gets nothing while held, tones are converted both ways after', async () => {
      const [caller, callee] = await Promise.all([RtpEndpoint.open(), RtpEndpoint.open()]);
      const id = `hold-${reference}`;
      const first = await call(relay, id, sdp(caller.port, [PCMU]), { codec: { transcode: ['PCMA'] } }, () => sdp(callee.port, [PCMA]), caller.port);
      const [a, b] = [pcmu(caller, first.toCaller.medias[0]!.port), pcma(callee, first.toCallee.medias[0]!.port)];
      // A hold with a=sendonly at its own address: the caller still gets the callee's media (rtpengine forwards it too).
      await reoffer(id, 'A', sdp(caller.port, [PCMU]).replace('a=sendrecv', 'a=sendonly'), { codec: { transcode: ['PCMA'] } }, sdp(callee.port, [PCMA]).replace('a=sendrecv', 'a=recvonly'));
      caller.received.length = 0;
      await sendThree(b);
      expect((await caller.waitFor(3)).filter((p) => (p.data[1]! & 0x7f) === 0).length).toBe(3);
      // The caller holds with the null address (0.0.0.0, inactive); the callee agrees.
      const held = sdp(caller.port, [PCMU]).replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0').replace('a=sendrecv', 'a=inactive');
      const h = await reoffer(id, 'A', held, { codec: { transcode: ['PCMA'] } }, sdp(callee.port, [PCMA]).replace('a=sendrecv', 'a=inactive'));
      expect(h.toAnswerer.lines).toContain('a=inactive');
      caller.received.length = 0;
      await sendThree(b);
      await sleep(100);
      expect(caller.received.length).toBe(0);
      // Resumed: the same codecs, converted both ways again.
      const r = await reoffer(id, 'A', sdp(caller.port, [PCMU]), { codec: { transcode: ['PCMA'] } }, sdp(callee.port, [PCMA]));
      expect([m(r.toAnswerer.lines), m(r.toOfferer.lines)]).toEqual(['0 8', '0']);
      await both({ ...a, relayPort: r.toOfferer.medias[0]!.port }, { ...b, relayPort: r.toAnswerer.medias[0]!.port }, 33, 30);
      await relay.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'A' });
      caller.close();
      callee.close();
    });

    it('DTMF between telephone-event/48000 (opus) and telephone-event/8000 (PCMU): digits, scaled durations and end packets both ways', async () => {
      const [caller, callee] = await Promise.all([RtpEndpoint.open(), RtpEndpoint.open()]);
      const id = `te48-${reference}`;
      const common = { 'call-id': id, 'from-tag': 'A', replace: ['origin'] };
      const o = await relay.ng.ok({ ...common, command: 'offer', sdp: sdp(caller.port, [OPUS, [110, 'telephone-event/48000']]), codec: { transcode: ['PCMU'], mask: ['opus'] } });
      const toCallee = readSdp(o['sdp'] as string);
      // The callee gets an 8 kHz telephone-event of its own (rtpengine numbers it 96, ngrelay 101).
      const te = Number(toCallee.lines.find((l) => l.endsWith(' telephone-event/8000'))!.slice('a=rtpmap:'.length).split(' ')[0]);
      expect(m(toCallee.lines)).toBe(`0 ${te}`);
      const a = await relay.ng.ok({ ...common, command: 'answer', 'to-tag': 'B', sdp: sdp(callee.port, [PCMU, [te, 'telephone-event/8000']]) });
      const toCaller = readSdp(a['sdp'] as string);
      expect(m(toCaller.lines)).toBe('111 110');
      /** Digit `code` as 3 progress packets and 3 end packets on `pt`, `step` clock units per 20 ms. */
      const digit = async (from: RtpEndpoint, port: number, to: RtpEndpoint, pt: number, code: number, step: number): Promise<number[][]> => {
        to.received.length = 0;
        for (let i = 0; i < 6; i++) {
          const d = step * Math.min(i + 1, 4);
          const ev = Buffer.from([0x80, i === 0 ? 0x80 | pt : pt, 0, 50 + i, 0, 1, 0, 0, 0, 0, 0x56, 0x78, code, i >= 3 ? 0x8a : 0x0a, d >> 8, d & 0xff]);
          from.send(ev, port, '127.0.0.1');
          await sleep(20);
        }
        await to.waitFor(6);
        await sleep(50);
        return to.received.filter((p) => p.data.length === 16).map((p) => [p.data[1]! & 0x7f, p.data[12]!, p.data[13]! & 0x80, p.data.readUInt16BE(14)]);
      };
      // Caller (48 kHz events) to callee: durations divided by 6.
      expect(await digit(caller, toCaller.medias[0]!.port, callee, 110, 7, 960)).toEqual([
        [te, 7, 0, 160], [te, 7, 0, 320], [te, 7, 0, 480], [te, 7, 0x80, 640], [te, 7, 0x80, 640], [te, 7, 0x80, 640],
      ]);
      // Callee (8 kHz events) to caller: multiplied by 6.
      expect(await digit(callee, toCallee.medias[0]!.port, caller, te, 11, 160)).toEqual([
        [110, 11, 0, 960], [110, 11, 0, 1920], [110, 11, 0, 2880], [110, 11, 0x80, 3840], [110, 11, 0x80, 3840], [110, 11, 0x80, 3840],
      ]);
      await relay.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'A' });
      caller.close();
      callee.close();
    });

    if (!reference) {
      it('RTCP of a converted call is rewritten for its receiver: the SSRC, counts and timestamp of the stream it gets', async () => {
        const [caller, callee, calleeRtcp] = await Promise.all([RtpEndpoint.open(), RtpEndpoint.open(), RtpEndpoint.open()]);
        const { toCallee, toCaller } = await call(relay, 'rtcp-convert', sdp(caller.port, [PCMU]), { codec: { transcode: ['PCMA'] } }, () => sdp(callee.port, [PCMA], [`a=rtcp:${calleeRtcp.port}`]), caller.port);
        const a: Side = { ep: caller, relayPort: toCaller.medias[0]!.port, pt: 0, enc: new PcmuEncoder(), dec: new PcmuDecoder(), clock: 8000 };
        const b: Side = { ep: callee, relayPort: toCallee.medias[0]!.port, pt: 8, enc: new PcmaEncoder(), dec: new PcmaDecoder(), clock: 8000 };
        await hear(a, b, 440, 15, 30, true);
        const atCallee = callee.received.filter((p) => (p.data[1]! & 0x7f) === 8).map((p) => p.data);
        await hear(b, a, 1000, 16, 30, true);
        const atCaller = caller.received.filter((p) => (p.data[1]! & 0x7f) === 0).map((p) => p.data);
        // The caller reports: an SR for its own stream (SSRC 0x1234 + 15) with a block about what it got from the relay.
        const sr = Buffer.alloc(52);
        sr[0] = 0x81;
        sr[1] = 200;
        sr.writeUInt16BE(12, 2);
        sr.writeUInt32BE(0x1234 + 15, 4);
        sr.writeUInt32BE(0xe1234567, 8);
        sr.writeUInt32BE(0x89abcdef, 12);
        sr.writeUInt32BE(777, 16);
        sr.writeUInt32BE(3, 20);
        sr.writeUInt32BE(99, 24);
        sr.writeUInt32BE(atCaller[0]!.readUInt32BE(8), 28);
        sr.writeUInt32BE(0x01000005, 32);
        sr.writeUInt32BE(12345, 36);
        sr.writeUInt32BE(42, 40);
        sr.writeUInt32BE(0x3456789a, 44);
        sr.writeUInt32BE(65536, 48);
        caller.send(sr, toCaller.medias[0]!.rtcpPort ?? toCaller.medias[0]!.port + 1, '127.0.0.1');
        const [got] = await calleeRtcp.waitFor(1);
        const last = atCallee[atCallee.length - 1]!;
        const r = got!.data;
        expect(r.length).toBe(52);
        // Sender info: the converted stream the callee gets (its SSRC, packets, octets, last timestamp); the NTP time as sent.
        expect([r.readUInt32BE(4), r.readUInt32BE(8), r.readUInt32BE(12), r.readUInt32BE(16), r.readUInt32BE(20), r.readUInt32BE(24)])
          .toEqual([last.readUInt32BE(8), 0xe1234567, 0x89abcdef, last.readUInt32BE(4), 50, 50 * 160]);
        // The block speaks of the callee's own stream as the relay got it (SSRC 0x1234 + 16, sequence 100-149, none lost); jitter and LSR/DLSR stay.
        expect([r.readUInt32BE(28), r.readUInt32BE(32), r.readUInt32BE(36), r.readUInt32BE(40), r.readUInt32BE(44), r.readUInt32BE(48)])
          .toEqual([0x1234 + 16, 0, 149, 42, 0x3456789a, 65536]);
        await relay.ng.ok({ command: 'delete', 'call-id': 'rtcp-convert', 'from-tag': 'A' });
        for (const ep of [caller, callee, calleeRtcp]) ep.close();
      });

      it('max-transcoded-media: a change beyond it is refused and changes nothing; a hostile SDP allocates nothing; plain calls go on', async () => {
        const converted = async (): Promise<unknown> => (((await relay.ng.ok({ command: 'statistics' }))['statistics'] as Dict)['currentstatistics'] as Dict)['transcodedmedia'];
        const [caller, callee, phone] = await Promise.all([RtpEndpoint.open(), RtpEndpoint.open(), RtpEndpoint.open()]);
        // Two converted streams (one each way).
        await call(relay, 'limit-1', sdp(caller.port, [PCMU]), { codec: { transcode: ['PCMA'] } }, () => sdp(callee.port, [PCMA]), caller.port);
        expect(await converted()).toBe(2);
        expect(await relay.cli('list numsessions')).toContain('Current transcoded media: 2\n');
        // A browser's offer: the phone's PCMU must be converted to opus (the third).
        const browser = { 'call-id': 'limit-2', 'from-tag': 'A', replace: ['origin'] };
        const o = await relay.ng.ok({ ...browser, command: 'offer', sdp: sdp(phone.port, [OPUS]), codec: { transcode: ['PCMU'], mask: ['opus'] } });
        expect(await converted()).toBe(3);
        // Its answer would add the fourth: refused, the offer stays as it was.
        const refused = await relay.ng.request({ ...browser, command: 'answer', 'to-tag': 'B', sdp: sdp(callee.port + 2, [PCMU]), supports: ['load limit'] });
        expect(refused).toEqual({ result: 'error', 'error-reason': 'Transcoding limit exceeded' });
        expect(await converted()).toBe(3);
        // A new call that would convert: another relay may take it (rtpengine's `load limit` reply).
        const newCall = { 'call-id': 'limit-3', 'from-tag': 'A', command: 'offer', sdp: sdp(phone.port, [OPUS]), codec: { transcode: ['PCMU'], mask: ['opus'] } };
        expect(await relay.ng.request({ ...newCall, supports: ['load limit'] })).toEqual({ result: 'load limit', message: 'Transcoding limit exceeded' });
        expect(await relay.ng.request(newCall)).toEqual({ result: 'error', 'error-reason': 'Transcoding limit exceeded' });
        // A subscriber taking PCMA of the first call's PCMU caller would need a fourth.
        await relay.ng.ok({ command: 'subscribe request', 'call-id': 'limit-1', 'from-tag': 'A', 'to-tag': 'sub' });
        const alaw = sdp(phone.port + 6, [PCMA]).replace('a=sendrecv', 'a=recvonly');
        expect(await relay.ng.request({ command: 'subscribe answer', 'call-id': 'limit-1', 'to-tag': 'sub', sdp: alaw, flags: ['allow transcoding'] })).toEqual({ result: 'error', 'error-reason': 'Transcoding limit exceeded' });
        // 200 converted m= lines in one offer: refused before any port or codec state exists.
        const hostile = ['v=0', 'o=x 1 1 IN IP4 127.0.0.1', 's=x', 'c=IN IP4 127.0.0.1', 't=0 0',
          ...Array.from({ length: 200 }, (_, i) => [`m=audio ${20000 + 2 * i} RTP/AVP 111`, 'a=rtpmap:111 opus/48000/2']).flat(), ''].join('\r\n');
        expect(await relay.ng.request({ ...newCall, 'call-id': 'limit-hostile', sdp: hostile })).toEqual({ result: 'error', 'error-reason': 'Transcoding limit exceeded' });
        expect(await relay.ng.request({ command: 'query', 'call-id': 'limit-hostile' })).toMatchObject({ result: 'error', 'error-reason': 'Unknown call-id' });
        // A call that converts nothing is not counted.
        await call(relay, 'limit-plain', sdp(caller.port + 4, [PCMU]), {}, () => sdp(callee.port + 4, [PCMU]), caller.port);
        // Once the first call is gone, the refused answer goes through and the browser's opus reaches the phone's side as PCMU.
        await relay.ng.ok({ command: 'delete', 'call-id': 'limit-1', 'from-tag': 'A' });
        expect(await converted()).toBe(1);
        const a = await relay.ng.ok({ ...browser, command: 'answer', 'to-tag': 'B', sdp: sdp(callee.port, [PCMU]) });
        expect(await converted()).toBe(2);
        const toBrowser = readSdp(a['sdp'] as string);
        const b: Side = { ep: phone, relayPort: toBrowser.medias[0]!.port, pt: 111, enc: new OpusEncoder(), dec: new OpusDecoder({ sampleRate: 8000 }), clock: 48000 };
        const p: Side = { ep: callee, relayPort: readSdp(o['sdp'] as string).medias[0]!.port, pt: 0, enc: new PcmuEncoder(), dec: new PcmuDecoder(), clock: 8000 };
        expect((await hear(b, p, 440, 13, 12, true)).packets).toBe(50);
        for (const id of ['limit-2', 'limit-plain']) await relay.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'A' });
        for (const ep of [caller, callee, phone]) ep.close();
      });
    }
  });
}

describe('a transcoded call across a restart', () => {
  it('is rebuilt from its record: after SIGKILL and a restart on the same DB, tones are converted both ways again', async () => {
    const redis = await RedisServer.start();
    let relay = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'] });
    const caller = await RtpEndpoint.open();
    const callee = await RtpEndpoint.open();
    try {
      const { toCallee, toCaller } = await call(relay, 'restart-pcma', sdp(caller.port, [PCMU, TE]), { codec: { transcode: ['PCMA'] } }, () => sdp(callee.port, [PCMA, TE]), caller.port);
      const a: Side = { ep: caller, relayPort: toCaller.medias[0]!.port, pt: 0, enc: new PcmuEncoder(), dec: new PcmuDecoder(), clock: 8000 };
      const b: Side = { ep: callee, relayPort: toCallee.medias[0]!.port, pt: 8, enc: new PcmaEncoder(), dec: new PcmaDecoder(), clock: 8000 };
      await hear(a, b, 440, 7, 30, true);
      // A second call offered before the restart and answered after it: the codec lists of the offer are in the record.
      const common = { 'call-id': 'restart-answer', 'from-tag': 'A' };
      await relay.ng.ok({ ...common, command: 'offer', sdp: sdp(caller.port + 2, [PCMU, TE]), codec: { transcode: ['PCMA'] } });
      await waitFor('the record', async () => (await redis.client(1).smembers('restart-pcma')).some((r) => r.includes('"transcode"')));
      await waitFor('the offer\'s record', async () => (await redis.client(1).smembers('restart-answer')).some((r) => r.includes('"codecList"')));
      await relay.stop('SIGKILL');
      relay = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'], portMin: relay.portMin, portMax: relay.portMax });
      expect((await hear(a, b, 1000, 8, 30, true)).packets).toBe(50);
      expect((await hear(b, a, 440, 9, 30, true)).packets).toBe(50);
      const answered = await relay.ng.ok({ ...common, command: 'answer', 'to-tag': 'B', sdp: sdp(callee.port + 2, [PCMA, TE]) });
      expect(m(readSdp(answered['sdp'] as string).lines)).toBe('0 101');
    } finally {
      caller.close();
      callee.close();
      await relay.stop();
      await redis.stop();
    }
  });
});
