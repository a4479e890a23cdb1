import { describe, expect, it } from 'vitest';
import { decodeWav, MediaFileError } from '../../src/media/engine/WavFile.js';
import { wavBytes } from '../helpers/wav.js';

/** A WAV file with a given format tag, sample width and raw sample bytes. */
function wav(tag: number, bits: number, channels: number, rate: number, data: Buffer, extensible = false): Buffer {
  const fmtLen = extensible ? 40 : 16;
  const fmt = Buffer.alloc(fmtLen);
  fmt.writeUInt16LE(extensible ? 0xfffe : tag, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE((rate * channels * bits) / 8, 8);
  fmt.writeUInt16LE((channels * bits) / 8, 12);
  fmt.writeUInt16LE(bits, 14);
  if (extensible) {
    fmt.writeUInt16LE(22, 16);
    fmt.writeUInt16LE(tag, 24);
  }
  const chunk = (id: string, body: Buffer): Buffer => {
    const h = Buffer.alloc(8);
    h.write(id, 0, 'latin1');
    h.writeUInt32LE(body.length, 4);
    return Buffer.concat([h, body, body.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), chunk('fmt ', fmt), chunk('LIST', Buffer.from('junk!', 'latin1')), chunk('data', data)]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

describe('WAV decoding', () => {
  it('reads 16-bit PCM as it is, and mixes stereo down to mono', () => {
    const mono = decodeWav(wavBytes(Int16Array.from([0, 1000, -1000, 32767, -32768]), 16000));
    expect(mono.rate).toBe(16000);
    expect([...mono.pcm]).toEqual([0, 1000, -1000, 32767, -32768]);
    expect(mono.pcm.buffer).toBeInstanceOf(SharedArrayBuffer);
    const stereo = decodeWav(wavBytes(Int16Array.from([1000, 3000, -2000, 0]), 48000, 2));
    expect([...stereo.pcm]).toEqual([2000, -1000]);
  });

  it('reads 8-bit, 24-bit and 32-bit PCM, float, A-law and µ-law (a chunk before data skipped, WAVE_FORMAT_EXTENSIBLE too)', () => {
    expect([...decodeWav(wav(1, 8, 1, 8000, Buffer.from([128, 255, 0]))).pcm]).toEqual([0, 127 << 8, -32768]);
    expect([...decodeWav(wav(1, 24, 1, 8000, Buffer.from([0, 0x10, 0x00, 0, 0xf0, 0xff]))).pcm]).toEqual([16, -16]);
    const i32 = Buffer.alloc(8);
    i32.writeInt32LE(1000 << 16, 0);
    i32.writeInt32LE(-5 << 16, 4);
    expect([...decodeWav(wav(1, 32, 1, 8000, i32, true)).pcm]).toEqual([1000, -5]);
    const f32 = Buffer.alloc(8);
    f32.writeFloatLE(0.5, 0);
    f32.writeFloatLE(-2, 4);
    expect([...decodeWav(wav(3, 32, 1, 8000, f32)).pcm]).toEqual([16384, -32768]);
    // G.711 silence and a full-scale code: 0xD5 / 0xFF are zero-ish, 0x2A (A-law) / 0x00 (µ-law) the negative peak.
    expect([...decodeWav(wav(6, 8, 1, 8000, Buffer.from([0xd5, 0x2a]))).pcm]).toEqual([8, -32256]);
    expect([...decodeWav(wav(7, 8, 1, 8000, Buffer.from([0xff, 0x00]))).pcm]).toEqual([0, -32124]);
  });

  it('refuses what it cannot play with a MediaFileError', () => {
    for (const bad of [
      Buffer.from('not a wav file at all'),
      wav(0x55, 16, 1, 8000, Buffer.alloc(4)), // MP3 in WAV
      wav(1, 12, 1, 8000, Buffer.alloc(4)),
      wav(1, 16, 1, 4000, Buffer.alloc(4)),
      wav(1, 16, 0, 8000, Buffer.alloc(4)),
      Buffer.concat([Buffer.from('RIFF\x04\x00\x00\x00WAVE', 'latin1')]),
    ]) {
      expect(() => decodeWav(bad)).toThrow(MediaFileError);
    }
  });

  it('takes a truncated data chunk as far as it goes', () => {
    const full = wavBytes(Int16Array.from([1, 2, 3, 4]), 8000);
    expect([...decodeWav(full.subarray(0, full.length - 3)).pcm]).toEqual([1, 2]);
  });
});
