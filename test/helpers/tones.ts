import { expect } from 'vitest';
import type { AudioDecoder, AudioEncoder } from '../../src/media/codecs/AudioCodec.js';
import { PcmuEncoder } from '../../src/media/codecs/Pcmu.js';
import { DtmfStream } from '../../src/media/engine/DtmfStream.js';
import { dominantFrequency, snr, tone } from './audio.js';
import { sleep } from './Relay.js';
import type { ReceivedPacket, RtpEndpoint } from './RtpEndpoint.js';

/**
 * Tones through a converting relay: one second of a seeded tone in 20 ms packets from one phone,
 * decoded at the other and checked by frequency and SNR.
 */

/** An SDP offering `formats` with their rtpmap lines. */
export function sdp(port: number, formats: [number, string][], extra: string[] = []): string {
  return [
    'v=0', 'o=test 1234 1 IN IP4 127.0.0.1', 's=test', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP ${formats.map(([pt]) => pt).join(' ')}`,
    ...formats.map(([pt, map]) => `a=rtpmap:${pt} ${map}`),
    ...extra,
    'a=sendrecv', '',
  ].join('\r\n');
}

/** A phone of a converted call: its socket, where it sends, its codec. */
export interface Side {
  ep: RtpEndpoint;
  /** Where it sends: the relay's port in the SDP it got, on `relayHost` (default 127.0.0.1). */
  relayPort: number;
  relayHost?: string;
  pt: number;
  enc: AudioEncoder;
  dec: AudioDecoder;
  clock: number;
}

/** Sends one second of a tone in 20 ms packets, paced as a phone sends them. */
export async function sendTone(from: Side, freq: number, seed: number): Promise<void> {
  const rate = from.enc.sampleRate;
  const frame = rate / 50;
  const pcm = tone({ freq, rate, samples: rate, seed });
  const buf = new Uint8Array(1500);
  for (let i = 0; i < 50; i++) {
    const n = from.enc.encode(pcm.subarray(i * frame, (i + 1) * frame), frame, buf);
    const p = Buffer.alloc(12 + n);
    p[0] = 0x80;
    p[1] = (i === 0 ? 0x80 : 0) | from.pt;
    p.writeUInt16BE(100 + i, 2);
    p.writeUInt32BE(5000 + (i * from.clock) / 50, 4);
    p.writeUInt32BE(0x1234 + seed, 8);
    p.set(buf.subarray(0, n), 12);
    from.ep.send(p, from.relayPort, from.relayHost ?? '127.0.0.1');
    await sleep(20);
  }
}

/**
 * Decodes what arrived; with `strict`, checks one SSRC, continuous sequence numbers and
 * timestamps (the reference relay is held to the tone only: it reorders and skips numbers).
 */
function received(to: Side, packets: ReceivedPacket[], tsStep: number, strict: boolean): { audio: Int16Array; first: [number, number] } {
  // In sequence order: a relay may reorder a burst (rtpengine does), it must not lose or repeat.
  const rtp = packets.filter((p) => p.data.length > 12 && (p.data[1]! & 0x7f) === to.pt).sort((x, y) => ((x.data.readUInt16BE(2) - y.data.readUInt16BE(2) + 0x8000) & 0xffff) - 0x8000);
  const ssrcs = new Set(rtp.map((p) => p.data.readUInt32BE(8)));
  expect(ssrcs.size).toBe(1);
  for (let i = 1; strict && i < rtp.length; i++) {
    expect(rtp[i]!.data.readUInt16BE(2)).toBe((rtp[i - 1]!.data.readUInt16BE(2) + 1) & 0xffff);
    expect((rtp[i]!.data.readUInt32BE(4) - rtp[i - 1]!.data.readUInt32BE(4)) >>> 0).toBe(tsStep);
  }
  const out = new Int16Array(to.dec.sampleRate * 2);
  let n = 0;
  for (const p of rtp) n += to.dec.decode(p.data, 12, p.data.length - 12, out.subarray(n));
  return { audio: out.subarray(0, n), first: [rtp[0]!.data.readUInt16BE(2), rtp[0]!.data.readUInt32BE(4)] };
}

/** Tone `freq` through the relay; checks frequency and SNR at the receiver. */
export async function hear(from: Side, to: Side, freq: number, seed: number, minSnr: number, strict: boolean): Promise<{ packets: number; snr: number; first: [number, number] }> {
  to.ep.received.length = 0;
  await sendTone(from, freq, seed);
  const got = await to.ep.waitFor(45);
  await sleep(200);
  const { audio, first } = received(to, got, to.clock / 50, strict);
  const steady = audio.subarray(to.dec.sampleRate / 10);
  expect(dominantFrequency(steady, to.dec.sampleRate, 200, 3800)).toBe(freq);
  const s = snr(steady, freq, to.dec.sampleRate);
  expect(s).toBeGreaterThan(minSnr);
  process.stdout.write(`${strict ? 'ngrelay' : 'rtpengine'} ${from.pt} -> ${to.pt}: ${got.length} packets, SNR ${s.toFixed(1)} dB\n`);
  return { packets: got.length, snr: s, first };
}

/**
 * Nine 20 ms PCMU packets (seq 300-308, timestamps from 8000, SSRC 0x4321): two of silence,
 * 60 ms of the digit '8' (852 + 1336 Hz, -16 dBm0 per tone), silence again.
 */
export function pcmuDigitEight(): Buffer[] {
  const pcm = new Int16Array(9 * 160);
  new DtmfStream({ kind: 'dtmf', digits: [{ code: 8, durationMs: 60, pauseMs: 0, volume: 16 }] }, 8000, false).next(pcm.subarray(320), 480, { event: 0, volume: 0, duration: 0, start: false, end: false });
  const enc = new PcmuEncoder();
  return Array.from({ length: 9 }, (_, i) => {
    const p = Buffer.alloc(172);
    p[0] = 0x80;
    p.writeUInt16BE(300 + i, 2);
    p.writeUInt32BE(8000 + i * 160, 4);
    p.writeUInt32BE(0x4321, 8);
    enc.encode(pcm.subarray(i * 160, (i + 1) * 160), 160, p.subarray(12));
    return p;
  });
}
