import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SrtpSession } from 'werift-rtp';
import type { AudioDecoder, AudioEncoder } from '../../src/media/codecs/AudioCodec.js';
import { OpusDecoder, OpusEncoder } from '../../src/media/codecs/Opus.js';
import { PcmuDecoder, PcmuEncoder } from '../../src/media/codecs/Pcmu.js';
import { powerAt, tone } from '../helpers/audio.js';
import { clusterRelay } from '../helpers/cluster.js';
import { rng } from '../helpers/health.js';
import { freePort } from '../helpers/ports.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { Relay, sleep, waitFor } from '../helpers/Relay.js';
import { RtpEndpoint, rtpPacket, type ReceivedPacket } from '../helpers/RtpEndpoint.js';
import { readSdp } from '../helpers/sdp.js';
import { wavBytes } from '../helpers/wav.js';

function sdp(port: number, formats: [number, string][]): string {
  return [
    'v=0', 'o=test 1 1 IN IP4 127.0.0.1', 's=test', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP ${formats.map(([pt]) => pt).join(' ')}`,
    ...formats.map(([pt, map]) => `a=rtpmap:${pt} ${map}`), 'a=sendrecv', '',
  ].join('\r\n');
}

const PCMU: [number, string] = [0, 'PCMU/8000'];
const OPUS: [number, string] = [111, 'opus/48000/2'];
const TE: [number, string] = [101, 'telephone-event/8000'];

interface Codec {
  pt: number;
  clock: number;
  enc: () => AudioEncoder;
  dec: () => AudioDecoder;
}
const pcmu: Codec = { pt: 0, clock: 8000, enc: () => new PcmuEncoder(), dec: () => new PcmuDecoder() };
const opus: Codec = { pt: 111, clock: 48000, enc: () => new OpusEncoder(), dec: () => new OpusDecoder({ sampleRate: 8000 }) };

/** A two-party call A → B through the relay; A sends a 1000 Hz tone to B until stopped. */
class TwoParty {
  private timer: NodeJS.Timeout | null = null;
  private constructor(
    public relay: Relay,
    readonly callId: string,
    readonly a: RtpEndpoint,
    readonly b: RtpEndpoint,
    /** The relay's port A sends to, and B's. */
    readonly aRelay: number,
    readonly bRelay: number,
    readonly codec: Codec,
  ) {}

  static async open(relay: Relay, callId: string, codec: Codec, formats: [number, string][]): Promise<TwoParty> {
    const a = await RtpEndpoint.open();
    const b = await RtpEndpoint.open();
    const o = await relay.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': 'A', sdp: sdp(a.port, formats) });
    const ans = await relay.ng.ok({ command: 'answer', 'call-id': callId, 'from-tag': 'A', 'to-tag': 'B', sdp: sdp(b.port, formats) });
    return new TwoParty(relay, callId, a, b, readSdp(ans['sdp'] as string).medias[0]!.port, readSdp(o['sdp'] as string).medias[0]!.port, codec);
  }

  /** A sends 20 ms packets of a 1000 Hz tone, paced as a phone does. */
  startTone(seed: number): void {
    const rate = this.codec.enc().sampleRate;
    const enc = this.codec.enc();
    const frame = rate / 50;
    const pcm = tone({ freq: 1000, rate, samples: rate * 10, seed });
    const out = new Uint8Array(1500);
    let i = 0;
    this.timer = setInterval(() => {
      const n = enc.encode(pcm.subarray((i % 500) * frame, ((i % 500) + 1) * frame), frame, out);
      const p = Buffer.alloc(12 + n);
      p[0] = 0x80;
      p[1] = (i === 0 ? 0x80 : 0) | this.codec.pt;
      p.writeUInt16BE((1000 + i) & 0xffff, 2);
      p.writeUInt32BE((7000 + (i * this.codec.clock) / 50) >>> 0, 4);
      p.writeUInt32BE(0xa0a0 + seed, 8);
      p.set(out.subarray(0, n), 12);
      this.a.send(p, this.aRelay, '127.0.0.1');
      i++;
    }, 20);
  }

  stopTone(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async close(): Promise<void> {
    this.stopTone();
    await this.relay.ng.request({ command: 'delete', 'call-id': this.callId, 'from-tag': 'A' });
    this.a.close();
    this.b.close();
  }
}

/** RTP packets of one payload type in sequence order. */
function rtpOf(packets: ReceivedPacket[], pt: number): Buffer[] {
  return packets.map((p) => p.data).filter((d) => d.length > 12 && (d[1]! & 0x7f) === pt);
}

/** Each packet's audio as the tone it carries: 440, 1000, or 0 (silence/other). */
function tones(packets: Buffer[], codec: Codec): number[] {
  const dec = codec.dec();
  const pcm = new Int16Array(5760);
  return packets.map((p) => {
    const n = dec.decode(p, 12, p.length - 12, pcm);
    const x = pcm.subarray(0, n);
    let energy = 0;
    for (const v of x) energy += v * v;
    const p440 = powerAt(x, 440, 8000);
    const p1000 = powerAt(x, 1000, 8000);
    if (energy / Math.max(1, n) < 1e4) return 0;
    return p440 > 10 * p1000 ? 440 : p1000 > 10 * p440 ? 1000 : 0;
  });
}

/** The runs of a sequence: [value, length] pairs. */
function runs(xs: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const x of xs) {
    const last = out[out.length - 1];
    if (last && last[0] === x) last[1]++;
    else out.push([x, 1]);
  }
  return out;
}

/**
 * A sends PCMU packets (160 bytes of 0x00) one at a time, sequence number and timestamp counted
 * from 0, each once B has what the one before brought; then waits for B to hold `total` packets.
 */
function lockstep(call: TwoParty): (packets: number, total: number) => Promise<void> {
  let n = 0;
  return async (packets, total) => {
    for (let i = 0; i < packets; i++) {
      const p = Buffer.alloc(172);
      p[0] = 0x80;
      p.writeUInt16BE(n, 2);
      p.writeUInt32BE(n * 160, 4);
      p.writeUInt32BE(0x5151, 8);
      n++;
      const before = call.b.received.length;
      call.a.send(p, call.aRelay, '127.0.0.1');
      await call.b.waitFor(before + 1);
    }
    await call.b.waitFor(total);
  };
}

/** pt (m: marker)/seq/ts, and an event's payload in hex. */
function describePacket(d: Buffer): string {
  const pt = d[1]! & 0x7f;
  const head = `${pt}${d[1]! & 0x80 ? 'm' : ''}/${d.readUInt16BE(2)}/${d.readUInt32BE(4)}`;
  return pt === 101 ? `${head}/${d.subarray(12).toString('hex')}` : head;
}

/** One SSRC, sequence numbers one apart, timestamps going on (an RFC 4733 event's packets share one). */
function expectContinuous(packets: Buffer[], eventPt = -1): void {
  expect(new Set(packets.map((p) => p.readUInt32BE(8))).size).toBe(1);
  for (let i = 1; i < packets.length; i++) {
    expect(packets[i]!.readUInt16BE(2)).toBe((packets[i - 1]!.readUInt16BE(2) + 1) & 0xffff);
    const dt = (packets[i]!.readUInt32BE(4) - packets[i - 1]!.readUInt32BE(4)) | 0;
    const sameEvent = (packets[i]![1]! & 0x7f) === eventPt && (packets[i - 1]![1]! & 0x7f) === eventPt;
    if (sameEvent) expect(dt).toBe(0);
    else expect(dt).toBeGreaterThan(0);
  }
}

describe('play media, stop media, play DTMF', () => {
  let redis: RedisServer;
  let relay: Relay;
  let dir: string;
  let wav440: string;
  let httpPort: number;
  const start = (portMin?: number, portMax?: number): Promise<Relay> => clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'], portMin, portMax, args: [`--listen-http=127.0.0.1:${httpPort}`] });
  beforeAll(async () => {
    redis = await RedisServer.start();
    httpPort = await freePort();
    relay = await start();
    dir = mkdtempSync(join(tmpdir(), 'ngrelay-play-'));
    wav440 = join(dir, 'tone440.wav');
    // 400 ms of 440 Hz at 16 kHz: the relay resamples it for the receiver's codec.
    writeFileSync(wav440, wavBytes(tone({ freq: 440, rate: 16000, samples: 6400, seed: 11, amplitude: 10000 }), 16000));
  });
  afterAll(async () => {
    await relay.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, codec, formats] of [['PCMU', pcmu, [PCMU]], ['opus', opus, [OPUS]]] as const) {
    it(`a file replaces the peer's audio for its length, in ${name}, and the peer's audio resumes in one continuous stream`, async () => {
      const call = await TwoParty.open(relay, `play-${name}`, codec, [...formats]);
      try {
        call.startTone(1);
        await call.b.waitFor(10);
        const r = await relay.ng.ok({ command: 'play media', 'call-id': call.callId, 'from-tag': 'B', file: wav440 });
        expect(r['duration']).toBe(400);
        await sleep(800);
        call.stopTone();
        await sleep(100);
        const got = rtpOf(call.b.received, codec.pt);
        const seen = runs(tones(got, codec)).filter(([, n]) => n >= 3);
        // Peer's tone, the file (400 ms = 20 packets, give or take the edges), the peer's tone again.
        expect(seen.map(([f]) => f)).toEqual([1000, 440, 1000]);
        expect(seen[1]![1]).toBeGreaterThanOrEqual(17);
        expect(seen[1]![1]).toBeLessThanOrEqual(21);
        expectContinuous(got);
        // Marker bit where the file starts and where the peer's audio comes back.
        expect(got.filter((p) => (p[1]! & 0x80) !== 0).length).toBeGreaterThanOrEqual(2);
      } finally {
        await call.close();
      }
    });
  }

  it("sends rtpengine's RTCP for the played stream to the party's RTCP port: a sender report counting the first packet, a block about the party's stream, its SDES CNAME", async () => {
    const [rtp, rtcp, peer, peerRtcp] = await Promise.all([RtpEndpoint.open(), RtpEndpoint.open(), RtpEndpoint.open(), RtpEndpoint.open()]);
    const callId = 'play-rtcp';
    try {
      const withRtcp = (e: RtpEndpoint, c: RtpEndpoint): string => sdp(e.port, [PCMU]).replace('a=sendrecv', `a=rtcp:${c.port}\r\na=sendrecv`);
      await relay.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': 'A', sdp: withRtcp(rtp, rtcp) });
      const ans = await relay.ng.ok({ command: 'answer', 'call-id': callId, 'from-tag': 'A', 'to-tag': 'B', sdp: withRtcp(peer, peerRtcp) });
      const toA = readSdp(ans['sdp'] as string).medias[0]!.port;
      // A's stream (one packet, seq 1000) and its sender report (NTP middle bits 0x56789abc).
      rtp.send(rtpPacket(1000, 0x1234), toA, '127.0.0.1');
      await peer.waitFor(1);
      rtcp.send(Buffer.from('80c8000600001234000056789abc000000000bb800000001000000ac', 'hex'), toA + 1, '127.0.0.1');
      await peerRtcp.waitFor(1);
      const blob = wavBytes(tone({ freq: 440, rate: 8000, samples: 800, seed: 13, amplitude: 10000 }), 8000);
      await relay.ng.ok({ command: 'play media', 'call-id': callId, 'from-tag': 'A', blob });
      const [report] = await rtcp.waitFor(1);
      await rtp.waitFor(1);
      const first = rtp.received[0]!.data;
      const r = report!.data;
      expect(report!.port).toBe(toA + 1);
      expect(r.length).toBe(76);
      // SR with one report block: the played stream's SSRC, one packet of its length, its timestamp.
      expect(r.subarray(0, 4).toString('hex')).toBe('81c8000c');
      expect(r.readUInt32BE(4)).toBe(first.readUInt32BE(8));
      expect(r.readUInt32BE(8) - 2208988800).toBeCloseTo(Date.now() / 1000, -2);
      expect([r.readUInt32BE(16), r.readUInt32BE(20), r.readUInt32BE(24)]).toEqual([first.readUInt32BE(4), 1, first.length]);
      // The block about A's stream: no loss, highest sequence 1000, no jitter, A's report and the delay since it.
      expect(r.subarray(28, 48).toString('hex')).toBe('00001234000000000000' + '03e8' + '0000000056789abc');
      expect(r.readUInt32BE(48)).toBeLessThan(65536 * 3);
      // SDES: one chunk for the same SSRC, CNAME of 12 hex digits, a null item and padding.
      expect(r.subarray(52, 56).toString('hex')).toBe('81ca0005');
      expect(r.readUInt32BE(56)).toBe(first.readUInt32BE(8));
      expect(r.subarray(60, 62).toString('hex')).toBe('010c');
      expect(r.subarray(62, 74).toString('latin1')).toMatch(/^[0-9a-f]{12}$/);
      expect(r.subarray(74).toString('hex')).toBe('0000');
    } finally {
      await relay.ng.request({ command: 'delete', 'call-id': callId, 'from-tag': 'A' });
      for (const e of [rtp, rtcp, peer, peerRtcp]) e.close();
    }
  });

  it('stop media ends a long playback early; a blob plays with a duration limit; the peer is heard in between and after', async () => {
    const call = await TwoParty.open(relay, 'play-stop', pcmu, [PCMU]);
    try {
      call.startTone(2);
      await call.b.waitFor(10);
      const r = await relay.ng.ok({ command: 'play media', 'call-id': call.callId, 'from-tag': 'B', file: wav440, 'repeat-times': 20 });
      expect(r['duration']).toBe(400);
      await sleep(300);
      await relay.ng.ok({ command: 'stop media', 'call-id': call.callId, 'from-tag': 'B' });
      await sleep(300);
      // A blob (WAV bytes in the request, 8 kHz) cut to 200 ms by `duration`.
      const blob = wavBytes(tone({ freq: 440, rate: 8000, samples: 8000, seed: 12, amplitude: 10000 }), 8000);
      const b = await relay.ng.ok({ command: 'play media', 'call-id': call.callId, 'from-tag': 'B', blob, duration: 200 });
      expect(b['duration']).toBe(1000);
      await sleep(450);
      call.stopTone();
      await sleep(100);
      const got = rtpOf(call.b.received, pcmu.pt);
      const seen = runs(tones(got, pcmu)).filter(([, n]) => n >= 3);
      expect(seen.map(([f]) => f)).toEqual([1000, 440, 1000, 440, 1000]);
      // Stopped after about 300 ms of an 8 s playback; the blob cut at 200 ms (10 packets).
      expect(seen[1]![1]).toBeGreaterThanOrEqual(10);
      expect(seen[1]![1]).toBeLessThanOrEqual(20);
      expect(seen[3]![1]).toBeGreaterThanOrEqual(9);
      expect(seen[3]![1]).toBeLessThanOrEqual(11);
      expectContinuous(got);
    } finally {
      await call.close();
    }
  });

  it('play DTMF goes as RFC 4733 events in the stream where telephone-event was negotiated', async () => {
    const call = await TwoParty.open(relay, 'dtmf-4733', pcmu, [PCMU, TE]);
    try {
      call.startTone(3);
      await call.b.waitFor(10);
      // from-tag A: the digit goes into what A sends, so B gets it.
      await relay.ng.ok({ command: 'play DTMF', 'call-id': call.callId, 'from-tag': 'A', digit: '5', duration: 200 });
      await sleep(500);
      call.stopTone();
      await sleep(100);
      const all = call.b.received.map((p) => p.data).filter((d) => d.length >= 12);
      const events = rtpOf(call.b.received, 101);
      expect(events.length).toBeGreaterThanOrEqual(12);
      expect(new Set(events.map((e) => e[12]))).toEqual(new Set([5]));
      // One event: one timestamp, marker on its first packet, durations growing to 200 ms (1600), three end packets one frame later.
      expect(new Set(events.map((e) => e.readUInt32BE(4))).size).toBe(1);
      expect(events[0]![1]! & 0x80).toBe(0x80);
      const ends = events.filter((e) => (e[13]! & 0x80) !== 0);
      expect(ends.length).toBe(3);
      for (const e of ends) expect(e.readUInt16BE(14)).toBe(1760);
      const durations = events.map((e) => e.readUInt16BE(14));
      for (let i = 1; i < durations.length; i++) expect(durations[i]!).toBeGreaterThanOrEqual(durations[i - 1]!);
      // The events are part of A's stream: same SSRC, numbering continuous around them.
      expectContinuous(all, 101);
      const kinds = runs(all.map((d) => d[1]! & 0x7f)).map(([pt]) => pt);
      expect(kinds).toEqual([0, 101, 0]);
    } finally {
      await call.close();
    }
  });

  it('digits into a flowing stream take the place of its packets one by one: events end a frame past their duration, a second digit queues behind the pause', async () => {
    const call = await TwoParty.open(relay, 'dtmf-splice-4733', pcmu, [PCMU, TE]);
    try {
      const step = lockstep(call);
      await step(2, 2);
      await relay.ng.ok({ command: 'play DTMF', 'call-id': call.callId, 'from-tag': 'A', code: '0', volume: 10, duration: 100 });
      await relay.ng.ok({ command: 'play DTMF', 'call-id': call.callId, 'from-tag': 'A', code: '1', volume: 6, duration: 100 });
      // Five event packets, the end (three), four of A's, the second digit's five and end, A again.
      await step(17, 2 + 5 + 3 + 4 + 5 + 3 + 1);
      // pt/seq/ts (from A's first) and the event payload: A's packet n has seq n and ts 160 n.
      const ev = (seq: number, ts: number, hex: string, m = ''): string => `101${m}/${seq}/${ts}/${hex}`;
      expect(call.b.received.map((p) => describePacket(p.data))).toEqual([
        '0/0/0', '0/1/160',
        ev(2, 320, '000a00a0', 'm'), ev(3, 320, '000a0140'), ev(4, 320, '000a01e0'), ev(5, 320, '000a0280'), ev(6, 320, '000a0320'),
        ev(7, 320, '008a03c0'), ev(8, 320, '008a03c0'), ev(9, 320, '008a03c0'),
        '0/10/1280', '0/11/1440', '0/12/1600', '0/13/1760',
        ev(14, 1920, '010600a0', 'm'), ev(15, 1920, '01060140'), ev(16, 1920, '010601e0'), ev(17, 1920, '01060280'), ev(18, 1920, '01060320'),
        ev(19, 1920, '018603c0'), ev(20, 1920, '018603c0'), ev(21, 1920, '018603c0'),
        '0/22/2880',
      ]);
    } finally {
      await call.close();
    }
  });

  it('tones into a flowing stream: the digit for its duration, silence for its pause, cut at the sample where the party comes back', async () => {
    const call = await TwoParty.open(relay, 'dtmf-splice-tones', pcmu, [PCMU]);
    try {
      const step = lockstep(call);
      await step(2, 2);
      // 'C' (852 + 1633 Hz) for 120 ms, 110 ms pause: 1,840 samples, eleven and a half packets.
      await relay.ng.ok({ command: 'play DTMF', 'call-id': call.callId, 'from-tag': 'A', code: 'C', volume: 5, duration: 120, pause: 110 });
      await step(13, 15);
      const got = call.b.received.map((p) => p.data);
      expect(got.map(describePacket)).toEqual(Array.from({ length: 15 }, (_, i) => `0/${i}/${i * 160}`));
      const pcm = new Int16Array(960);
      new PcmuDecoder().decode(Buffer.concat(got.slice(2, 8).map((p) => p.subarray(12))), 0, 960, pcm);
      const power = [697, 770, 852, 941, 1209, 1336, 1477, 1633].map((f) => [f, powerAt(pcm, f, 8000)] as const).sort((x, y) => y[1] - x[1]);
      expect(power.slice(0, 2).map(([f]) => f).sort()).toEqual([1633, 852]);
      expect(power[1]![1]).toBeGreaterThan(100 * power[2]![1]);
      // Silence (µ-law 0xff) to the 80th sample of the 12th packet, then A's own bytes (0x00).
      for (const p of got.slice(8, 13)) expect(p.subarray(12).every((b) => b === 0xff)).toBe(true);
      expect(got[13]!.subarray(12, 92).every((b) => b === 0xff)).toBe(true);
      expect(got[13]!.subarray(92).every((b) => b === 0x00)).toBe(true);
      expect(got[14]!.subarray(12).every((b) => b === 0x00)).toBe(true);
    } finally {
      await call.close();
    }
  });

  it('play DTMF goes as the digit\'s two tones in the codec where no telephone-event was negotiated', async () => {
    const call = await TwoParty.open(relay, 'dtmf-inband', pcmu, [PCMU]);
    try {
      await relay.ng.ok({ command: 'play DTMF', 'call-id': call.callId, 'from-tag': 'A', code: 9, duration: 300, volume: 10 });
      await sleep(450);
      const got = rtpOf(call.b.received, 0);
      const dec = new PcmuDecoder();
      const pcm = new Int16Array(got.length * 160);
      let n = 0;
      for (const p of got) n += dec.decode(p, 12, p.length - 12, pcm.subarray(n));
      const freqs = [697, 770, 852, 941, 1209, 1336, 1477, 1633];
      const loud = pcm.subarray(0, Math.min(n, 2400));
      const power = freqs.map((f) => [f, powerAt(loud, f, 8000)] as const).sort((x, y) => y[1] - x[1]);
      // Digit 9: 852 Hz and 1477 Hz, far above the other six.
      expect(power.slice(0, 2).map(([f]) => f).sort()).toEqual([1477, 852]);
      expect(power[1]![1]).toBeGreaterThan(100 * power[2]![1]);
    } finally {
      await call.close();
    }
  });

  it('counts playbacks and digits in /metrics', async () => {
    const samples = parseExposition(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
    // Files: PCMU, opus, the one with RTCP, the stopped one, the blob; digits: three as RFC 4733 events, two as tones.
    expect(valueOf(samples, 'ngrelay_players_started_total')).toBe(5);
    expect(valueOf(samples, 'ngrelay_dtmf_events_sent_total')).toBe(5);
    expect(valueOf(samples, 'ngrelay_players_active')).toBe(0);
  });

  it("answers rtpengine 10.5's errors", async () => {
    const call = await TwoParty.open(relay, 'play-errors', pcmu, [PCMU]);
    try {
      const reason = async (d: Record<string, unknown>): Promise<unknown> => (await relay.ng.request({ 'call-id': call.callId, ...d }))['error-reason'];
      expect(await reason({ command: 'play media', 'call-id': 'nope', 'from-tag': 'B', file: wav440 })).toBe('Unknown call-ID');
      expect(await relay.ng.request({ command: 'play media', 'from-tag': 'B', file: wav440 })).toEqual({ result: 'error', 'error-reason': 'No call-id in message' });
      expect(await reason({ command: 'play media', file: wav440 })).toBe('No participant party specified');
      expect(await reason({ command: 'play media', 'from-tag': 'X', file: wav440 })).toBe('From-tag given, but no such tag exists');
      expect(await reason({ command: 'play media', 'from-tag': 'B' })).toBe('No media file specified');
      expect(await reason({ command: 'play media', 'from-tag': 'B', file: join(dir, 'missing.wav') })).toBe('Failed to start media playback from file');
      expect(await reason({ command: 'play media', 'from-tag': 'B', file: dir })).toBe('Failed to start media playback from file');
      expect(await reason({ command: 'play media', 'from-tag': 'B', blob: 'not a wav file' })).toBe('Failed to start media playback from blob');
      expect(await reason({ command: 'play media', 'from-tag': 'B', 'db-id': 12 })).toBe('Failed to start media playback from database');
      expect(await reason({ command: 'stop media', 'from-tag': 'A' })).toBe('Not currently playing media');
      expect(await reason({ command: 'play DTMF', 'from-tag': 'A', digit: 'X' })).toBe("Out of range 'code' specified");
      expect(await reason({ command: 'play DTMF', 'from-tag': 'A', code: 16 })).toBe("Out of range 'code' specified");
      expect(await reason({ command: 'play DTMF', 'from-tag': 'A', code: -1 })).toBe("Out of range 'code' specified");
    } finally {
      await call.close();
    }
  });

  it('plays into an SDES call whose keys pass through, encrypted with the key the party was given', async () => {
    const rand = rng(0x5de5);
    const key = (): string => Buffer.from(Array.from({ length: 30 }, () => Math.floor(rand() * 256))).toString('base64');
    const keyA = key();
    const keyB = key();
    const a = await RtpEndpoint.open();
    const b = await RtpEndpoint.open();
    const savp = (port: number, key: string): string => sdp(port, [PCMU]).replace('RTP/AVP', 'RTP/SAVP') + `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}\r\n`;
    const callId = 'play-sdes';
    try {
      await relay.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': 'A', sdp: savp(a.port, keyA), DTLS: 'off' });
      const ans = await relay.ng.ok({ command: 'answer', 'call-id': callId, 'from-tag': 'A', 'to-tag': 'B', sdp: savp(b.port, keyB) });
      // Both parties keep their keys: A decrypts what it gets with B's key.
      expect(String(ans['sdp'])).toContain(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${keyB}`);
      await relay.ng.ok({ command: 'play media', 'call-id': callId, 'from-tag': 'A', file: wav440 });
      await a.waitFor(10);
      const k = Buffer.from(keyB, 'base64');
      const party = new SrtpSession({ keys: { localMasterKey: k.subarray(0, 16), localMasterSalt: k.subarray(16), remoteMasterKey: k.subarray(0, 16), remoteMasterSalt: k.subarray(16) }, profile: 1 });
      const plain = a.received.slice(0, 10).map((p) => party.decrypt(p.data));
      expect(runs(tones(plain, pcmu))).toEqual([[440, 10]]);
    } finally {
      await relay.ng.request({ command: 'delete', 'call-id': callId, 'from-tag': 'A' });
      a.close();
      b.close();
    }
  });

  it("selects the party by the label the answerer's side was given in the answer", async () => {
    const a = await RtpEndpoint.open();
    const b = await RtpEndpoint.open();
    const callId = 'play-label';
    try {
      await relay.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': 'A', sdp: sdp(a.port, [PCMU]), label: 'caller' });
      await relay.ng.ok({ command: 'answer', 'call-id': callId, 'from-tag': 'A', 'to-tag': 'B', sdp: sdp(b.port, [PCMU]), label: 'callee' });
      await relay.ng.ok({ command: 'play media', 'call-id': callId, label: 'callee', file: wav440 });
      await b.waitFor(5);
      expect(a.received.length).toBe(0);
      expect(runs(tones(rtpOf(b.received, 0).slice(0, 5), pcmu))).toEqual([[440, 5]]);
    } finally {
      await relay.ng.request({ command: 'delete', 'call-id': callId, 'from-tag': 'A' });
      a.close();
      b.close();
    }
  });

  it('a playback goes on across a restart: after SIGKILL and a restart from the record the party hears the file, then its peer after stop media', async () => {
    const moh = join(dir, 'moh.wav');
    writeFileSync(moh, wavBytes(tone({ freq: 440, rate: 8000, samples: 16000, seed: 21, amplitude: 10000 }), 8000));
    const call = await TwoParty.open(relay, 'moh-restart', pcmu, [PCMU]);
    try {
      call.startTone(4);
      await call.b.waitFor(5);
      await relay.ng.ok({ command: 'play media', 'call-id': call.callId, 'from-tag': 'B', file: moh, 'repeat-times': 30 });
      await waitFor('the record', async () => (await redis.client(1).smembers(call.callId)).some((r) => r.includes(moh)));
      await relay.stop('SIGKILL');
      relay = await start(relay.portMin, relay.portMax);
      call.relay = relay;
      call.b.received.length = 0;
      await sleep(400);
      const heard = tones(rtpOf(call.b.received, 0), pcmu);
      expect(runs(heard).filter(([, n]) => n >= 3).map(([f]) => f), JSON.stringify(runs(heard))).toEqual([440]);
      await relay.ng.ok({ command: 'stop media', 'call-id': call.callId, 'from-tag': 'B' });
      call.b.received.length = 0;
      await sleep(300);
      expect(runs(tones(rtpOf(call.b.received, 0), pcmu)).filter(([, n]) => n >= 3).map(([f]) => f)).toEqual([1000]);
    } finally {
      await call.close();
    }
  });
});
