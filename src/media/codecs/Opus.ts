import { loadAddon } from '../../runtime/nativeAddon.js';
import type { AudioDecoder, AudioEncoder } from './AudioCodec.js';

/**
 * Opus through the system's libopus (Debian's libopus0), by a small N-API binding built with the
 * relay (`npm run build`, src/media/codecs/native). Chosen over the WebAssembly and prebuilt
 * packages by measurement: docs/transcoding.md has the figures. The binding works on the
 * caller's typed arrays, so a frame costs libopus's time and one native call.
 */
interface Binding {
  encoder(rate: number, channels: number, application: number, bitrate: number, fec: number, complexity: number): object;
  decoder(rate: number, channels: number): object;
  encode(coder: object, pcm: Int16Array, frameSize: number, out: Uint8Array): number;
  decode(coder: object, data: Uint8Array, offset: number, length: number, out: Int16Array, fec: number): number;
  close(coder: object): void;
}

function load(): Binding | null {
  return loadAddon<Binding>('opus');
}

/** Whether the opus binding was built (libopus-dev present at build time). */
export function opusAvailable(): boolean {
  return load() !== null;
}

export class OpusUnavailableError extends Error {
  constructor() {
    super('opus codec not built (libopus-dev missing at build time)');
  }
}

export interface OpusEncoderOptions {
  sampleRate?: 8000 | 12000 | 16000 | 24000 | 48000;
  channels?: 1 | 2;
  /** Bits per second; 0 lets libopus choose. */
  bitrate?: number;
  /** In-band forward error correction (off unless the peer asked for it with useinbandfec=1). */
  fec?: boolean;
  /** 0-10; libopus's default is 10. */
  complexity?: number;
  /** 'voip' (default) or 'audio'. */
  application?: 'voip' | 'audio';
}

export class OpusEncoder implements AudioEncoder {
  readonly sampleRate: number;
  readonly channels: number;
  private readonly b: Binding;
  private coder: object | null;

  constructor(o: OpusEncoderOptions = {}) {
    const b = load();
    if (!b) throw new OpusUnavailableError();
    this.b = b;
    this.sampleRate = o.sampleRate ?? 48000;
    this.channels = o.channels ?? 1;
    this.coder = b.encoder(this.sampleRate, this.channels, o.application === 'audio' ? 1 : 0, o.bitrate ?? 0, o.fec ? 1 : 0, o.complexity ?? 10);
  }

  /** `samples` per channel must be a valid opus frame size (2.5-60 ms). */
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    if (!this.coder) return -1;
    return this.b.encode(this.coder, pcm, samples, out);
  }

  close(): void {
    if (this.coder) this.b.close(this.coder);
    this.coder = null;
  }
}

export class OpusDecoder implements AudioDecoder {
  readonly sampleRate: number;
  readonly channels: number;
  private readonly b: Binding;
  private coder: object | null;

  constructor(o: { sampleRate?: 8000 | 12000 | 16000 | 24000 | 48000; channels?: 1 | 2 } = {}) {
    const b = load();
    if (!b) throw new OpusUnavailableError();
    this.b = b;
    this.sampleRate = o.sampleRate ?? 48000;
    this.channels = o.channels ?? 1;
    this.coder = b.decoder(this.sampleRate, this.channels);
  }

  /** A `length` of 0 conceals one lost frame (as long as `out` holds). */
  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    if (!this.coder) return -1;
    const n = this.b.decode(this.coder, payload, offset, length, out, 0);
    return n < 0 ? -1 : n;
  }

  close(): void {
    if (this.coder) this.b.close(this.coder);
    this.coder = null;
  }
}
