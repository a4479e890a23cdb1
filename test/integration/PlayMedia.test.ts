import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioDecoder, AudioEncoder } from '../../src/media/codecs/AudioCodec.js';
import { OpusDecoder, OpusEncoder } from '../../src/media/codecs/Opus.js';
import { PcmuDecoder, PcmuEncoder } from '../../src/media/codecs/Pcmu.js';
import { powerAt, tone } from '../helpers/audio.js';
import { Relay, sleep } from '../helpers/Relay.js';
import { RtpEndpoint, type ReceivedPacket } from '../helpers/RtpEndpoint.js';
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
    readonly relay: Relay,
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

/** One SSRC, sequence numbers one apart, timestamps never going back. */
function expectContinuous(packets: Buffer[]): void {
  expect(new Set(packets.map((p) => p.readUInt32BE(8))).size).toBe(1);
  for (let i = 1; i < packets.length; i++) {
    expect(packets[i]!.readUInt16BE(2)).toBe((packets[i - 1]!.readUInt16BE(2) + 1) & 0xffff);
    const dt = (packets[i]!.readUInt32BE(4) - packets[i - 1]!.readUInt32BE(4)) | 0;
    expect(dt).toBeGreaterThan(0);
  }
}

describe('play media, stop media, play DTMF', () => {
  let relay: Relay;
  let dir: string;
  let wav440: string;
  beforeAll(async () => {
    relay = await Relay.start();
    dir = mkdtempSync(join(tmpdir(), 'ngrelay-play-'));
    wav440 = join(dir, 'tone440.wav');
    // 600 ms of 440 Hz at 16 kHz: the relay resamples it for the receiver's codec.
    writeFileSync(wav440, wavBytes(tone({ freq: 440, rate: 16000, samples: 9600, seed: 11, amplitude: 10000 }), 16000));
  });
  afterAll(async () => {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, codec, formats] of [['PCMU', pcmu, [PCMU]], ['opus', opus, [OPUS]]] as const) {
    it(`a file replaces the peer's audio for its length, in ${name}, and the peer's audio resumes in one continuous stream`, async () => {
      const call = await TwoParty.open(relay, `play-${name}`, codec, [...formats]);
      try {
        call.startTone(1);
        await call.b.waitFor(10);
        const r = await relay.ng.ok({ command: 'play media', 'call-id': call.callId, 'from-tag': 'B', file: wav440 });
        expect(r['duration']).toBe(600);
        await sleep(1200);
        call.stopTone();
        await sleep(100);
        const got = rtpOf(call.b.received, codec.pt);
        const seen = runs(tones(got, codec)).filter(([, n]) => n >= 3);
        // Peer's tone, the file (600 ms = 30 packets, give or take the edges), the peer's tone again.
        expect(seen.map(([f]) => f)).toEqual([1000, 440, 1000]);
        expect(seen[1]![1]).toBeGreaterThanOrEqual(27);
        expect(seen[1]![1]).toBeLessThanOrEqual(31);
        expectContinuous(got);
        // Marker bit where the file starts and where the peer's audio comes back.
        expect(got.filter((p) => (p[1]! & 0x80) !== 0).length).toBeGreaterThanOrEqual(2);
      } finally {
        await call.close();
      }
    });
  }
});
