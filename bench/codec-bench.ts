#!/usr/bin/env node
/**
 * Codec micro-benchmark: CPU time per 20 ms frame to encode and to decode, per codec, on this
 * thread (what a transcoded stream costs before resampling and packet handling). The input is a
 * seeded two-tone signal with a little noise. See docs/transcoding.md.
 *
 *   npm run build && node dist/bench/codec-bench.js [--seconds=60]
 */
import { parseArgs } from 'node:util';
import type { AudioDecoder, AudioEncoder } from '../src/media/codecs/AudioCodec.js';
import { G722Decoder, G722Encoder } from '../src/media/codecs/G722.js';
import { G729Decoder, G729Encoder, g729Available } from '../src/media/codecs/G729.js';
import { GsmDecoder, GsmEncoder, gsmAvailable } from '../src/media/codecs/Gsm.js';
import { OpusDecoder, OpusEncoder, opusAvailable } from '../src/media/codecs/Opus.js';
import { PcmaDecoder, PcmaEncoder } from '../src/media/codecs/Pcma.js';
import { PcmuDecoder, PcmuEncoder } from '../src/media/codecs/Pcmu.js';
import { SpeexDecoder, SpeexEncoder, speexAvailable } from '../src/media/codecs/Speex.js';
import { cpuModel, loadAverage } from './procCpu.js';

const { values: opt } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const FRAMES = Number(opt.seconds) * 50;

function signal(rate: number, channels: number): Int16Array {
  let seed = 12345;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const out = new Int16Array(rate * Number(opt.seconds) * channels);
  for (let i = 0; i < out.length / channels; i++) {
    const v = 6000 * Math.sin((2 * Math.PI * 440 * i) / rate) + 3000 * Math.sin((2 * Math.PI * 1700 * i) / rate) + 1000 * (rnd() - 0.5);
    for (let c = 0; c < channels; c++) out[i * channels + c] = Math.round(v);
  }
  return out;
}

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

function run(name: string, enc: AudioEncoder, dec: AudioDecoder): void {
  const frame = enc.sampleRate / 50;
  const ch = enc.channels;
  const pcm = signal(enc.sampleRate, ch);
  const packets: Uint8Array[] = [];
  const buf = new Uint8Array(1500);
  const out = new Int16Array(frame * ch);
  // Warm-up: the first second, then the measured run over all frames.
  for (let f = 0; f < 50; f++) enc.encode(pcm.subarray(f * frame * ch), frame, buf);
  let t = cpuUs();
  for (let f = 0; f < FRAMES; f++) {
    const n = enc.encode(pcm.subarray(f * frame * ch, (f + 1) * frame * ch), frame, buf);
    packets.push(buf.slice(0, n));
  }
  const encUs = (cpuUs() - t) / FRAMES;
  for (let f = 0; f < 50; f++) dec.decode(packets[f]!, 0, packets[f]!.length, out);
  t = cpuUs();
  for (let f = 0; f < FRAMES; f++) dec.decode(packets[f]!, 0, packets[f]!.length, out);
  const decUs = (cpuUs() - t) / FRAMES;
  const bytes = packets.reduce((a, p) => a + p.length, 0) / FRAMES;
  process.stdout.write(`| ${name} | ${encUs.toFixed(1)} | ${decUs.toFixed(1)} | ${bytes.toFixed(0)} |\n`);
  enc.close();
  dec.close();
}

process.stdout.write(`Codec CPU per 20 ms frame, ${FRAMES} frames, ${cpuModel()}, load ${loadAverage()}, node ${process.version}\n`);
process.stdout.write('| codec | encode µs/frame | decode µs/frame | bytes/frame |\n|---|---:|---:|---:|\n');
run('PCMU', new PcmuEncoder(), new PcmuDecoder());
run('PCMA', new PcmaEncoder(), new PcmaDecoder());
run('G.722', new G722Encoder(), new G722Decoder());
if (g729Available()) run('G.729', new G729Encoder(), new G729Decoder());
else process.stdout.write('| G.729 | not built (libbcg729-dev missing at build time) | | |\n');
if (gsmAvailable()) run('GSM', new GsmEncoder(), new GsmDecoder());
else process.stdout.write('| GSM | not built (libgsm1-dev missing at build time) | | |\n');
if (speexAvailable()) {
  run('speex 8 kHz', new SpeexEncoder(8000), new SpeexDecoder(8000));
  run('speex 16 kHz', new SpeexEncoder(16000), new SpeexDecoder(16000));
} else process.stdout.write('| speex | not built (libspeex-dev missing at build time) | | |\n');
if (opusAvailable()) {
  run('opus 48 kHz mono', new OpusEncoder(), new OpusDecoder());
  run('opus 48 kHz stereo', new OpusEncoder({ channels: 2 }), new OpusDecoder({ channels: 2 }));
} else {
  process.stdout.write('| opus | not built (libopus-dev missing at build time) | | |\n');
}
