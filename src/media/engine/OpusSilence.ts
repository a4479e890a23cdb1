import { OpusEncoder, opusAvailable } from '../codecs/Opus.js';

/** Samples (at 48 kHz) of one frame of each TOC configuration (RFC 6716 3.1). */
function frameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config & 3]!;
  if (config < 16) return [480, 960][config & 1]!;
  return [120, 240, 480, 960][config & 3]!;
}

/** Frames in an opus packet (RFC 6716 3.2), or 0 when it is malformed. */
function frameCount(p: Uint8Array, offset: number, length: number): number {
  const code = p[offset]! & 3;
  if (code === 0) return 1;
  if (code === 1 || code === 2) return 2;
  return length < 2 ? 0 : p[offset + 1]! & 0x3f;
}

/**
 * Opus packets of silence, made with libopus once per frame size and channel count and kept:
 * a silenced packet is replaced by one of the same duration and frame layout.
 */
export class OpusSilence {
  private readonly made = new Map<number, Uint8Array>();
  private encoder: OpusEncoder | null = null;
  private encoderChannels = 0;

  /** The silence packet matching the opus packet at `p[offset..offset+length)`, or null (malformed, or no libopus). */
  packetFor(p: Uint8Array, offset: number, length: number): Uint8Array | null {
    if (length < 1 || !opusAvailable()) return null;
    const toc = p[offset]!;
    const frames = frameCount(p, offset, length);
    if (frames === 0 || frames * frameSamples(toc >> 3) > 5760) return null;
    const key = (toc << 8) | frames;
    let packet = this.made.get(key);
    if (packet === undefined) {
      packet = this.make(toc, frames);
      this.made.set(key, packet);
    }
    return packet;
  }

  private make(toc: number, frames: number): Uint8Array {
    const channels = toc & 4 ? 2 : 1;
    const samples = frameSamples(toc >> 3);
    if (this.encoder === null || this.encoderChannels !== channels) {
      this.encoder?.close();
      this.encoder = new OpusEncoder({ sampleRate: 48000, channels });
      this.encoderChannels = channels;
    }
    const pcm = new Int16Array(samples * channels);
    const one = new Uint8Array(1500);
    // The encoder's first frames after silence begins still carry its ramp-down: take a later one.
    let n = 0;
    for (let i = 0; i < 4; i++) n = this.encoder.encode(pcm, samples, one);
    const frame = one.subarray(0, Math.max(n, 1));
    if (frames === 1) return frame.slice();
    // Code 3, constant bitrate: the TOC of the silence frame, the count, the frames back to back.
    const out = new Uint8Array(2 + frames * (frame.length - 1));
    out[0] = (frame[0]! & 0xfc) | 3;
    out[1] = frames;
    for (let i = 0; i < frames; i++) out.set(frame.subarray(1), 2 + i * (frame.length - 1));
    return out;
  }

  close(): void {
    this.encoder?.close();
    this.encoder = null;
  }
}
