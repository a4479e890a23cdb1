import { ALAW_DECODE } from '../codecs/Pcma.js';
import { ULAW_DECODE } from '../codecs/Pcmu.js';

/**
 * WAV files as announcements and music on hold come: RIFF/WAVE with PCM (8, 16, 24, 32 bit),
 * IEEE float (32, 64 bit), A-law or µ-law samples, any channel count (mixed down to mono) and
 * any rate from 8 to 192 kHz. Pure: bytes in, mono 16-bit samples out, in memory shared
 * between threads. Compressed formats (MP3, GSM in WAV) are refused: decoding them would need
 * a codec library on the relay for files an operator can convert once with sox or ffmpeg.
 */
export class MediaFileError extends Error {}

export interface DecodedAudio {
  rate: number;
  /** Mono samples (backed by a SharedArrayBuffer). */
  pcm: Int16Array;
}

const PCM = 1;
const FLOAT = 3;
const ALAW = 6;
const ULAW = 7;
const EXTENSIBLE = 0xfffe;

/** The longest file decoded: one hour at 48 kHz. */
export const MAX_SAMPLES = 3600 * 48000;

export function decodeWav(bytes: Uint8Array): DecodedAudio {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new MediaFileError('not a RIFF/WAVE file');
  let fmt: { tag: number; channels: number; rate: number; bits: number } | null = null;
  let data: Buffer | null = null;
  for (let p = 12; p + 8 <= b.length; ) {
    const id = b.toString('latin1', p, p + 4);
    const size = b.readUInt32LE(p + 4);
    const body = b.subarray(p + 8, Math.min(b.length, p + 8 + size));
    if (id === 'fmt ' && body.length >= 16) {
      let tag = body.readUInt16LE(0);
      if (tag === EXTENSIBLE && body.length >= 26) tag = body.readUInt16LE(24);
      fmt = { tag, channels: body.readUInt16LE(2), rate: body.readUInt32LE(4), bits: body.readUInt16LE(14) };
    } else if (id === 'data') {
      data = body;
      break;
    }
    p += 8 + size + (size & 1);
  }
  if (!fmt || !data) throw new MediaFileError('no fmt or data chunk');
  const { tag, channels, rate, bits } = fmt;
  if (channels < 1 || channels > 8 || rate < 8000 || rate > 192000) throw new MediaFileError(`unsupported layout: ${channels} channels at ${rate} Hz`);
  const read = sampleReader(tag, bits);
  if (!read) throw new MediaFileError(`unsupported sample format ${tag}/${bits} bit`);
  const width = bits / 8;
  const frames = Math.min(Math.floor(data.length / (width * channels)), MAX_SAMPLES);
  const pcm = new Int16Array(new SharedArrayBuffer(frames * 2));
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += read(data, (i * channels + c) * width);
    const v = Math.round(sum / channels);
    pcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return { rate, pcm };
}

/** A function reading one sample as a 16-bit value, or null for a format not read. */
function sampleReader(tag: number, bits: number): ((d: Buffer, o: number) => number) | null {
  if (tag === PCM && bits === 8) return (d, o) => (d[o]! - 128) << 8;
  if (tag === PCM && bits === 16) return (d, o) => d.readInt16LE(o);
  if (tag === PCM && bits === 24) return (d, o) => d.readIntLE(o, 3) / 256;
  if (tag === PCM && bits === 32) return (d, o) => d.readInt32LE(o) / 65536;
  if (tag === FLOAT && bits === 32) return (d, o) => d.readFloatLE(o) * 32767;
  if (tag === FLOAT && bits === 64) return (d, o) => d.readDoubleLE(o) * 32767;
  if (tag === ALAW && bits === 8) return (d, o) => ALAW_DECODE[d[o]!]!;
  if (tag === ULAW && bits === 8) return (d, o) => ULAW_DECODE[d[o]!]!;
  return null;
}
