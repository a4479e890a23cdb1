import { loadAddon } from '../../runtime/nativeAddon.js';
import type { AudioDecoder, AudioEncoder } from './AudioCodec.js';

/**
 * The common shape of the mono frame-codec bindings built with the relay (src/media/codecs/native):
 * a codec state made by the binding, one native call per packet, an explicit close. Each codec's
 * file says how its state is made.
 */
export interface FrameBinding {
  encode(coder: object, pcm: Int16Array, samples: number, out: Uint8Array): number;
  decode(coder: object, data: Uint8Array, offset: number, length: number, out: Int16Array): number;
  close(coder: object): void;
}

/** The binding `<name>.node`, or an error naming the -dev package it was not built without. */
export function requireBinding<T>(name: string, codec: string, devPackage: string): T {
  const b = loadAddon<T>(name);
  if (!b) throw new Error(`${codec} codec not built (${devPackage} missing at build time)`);
  return b;
}

export class NativeEncoder implements AudioEncoder {
  readonly channels = 1;
  private coder: object | null;

  constructor(private readonly b: FrameBinding, coder: object, readonly sampleRate: number) {
    this.coder = coder;
  }

  /** `samples` must be a whole number of the codec's frames; -1 otherwise. */
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    return this.coder ? this.b.encode(this.coder, pcm, samples, out) : -1;
  }

  close(): void {
    if (this.coder) this.b.close(this.coder);
    this.coder = null;
  }
}

export class NativeDecoder implements AudioDecoder {
  readonly channels = 1;
  private coder: object | null;

  constructor(private readonly b: FrameBinding, coder: object, readonly sampleRate: number) {
    this.coder = coder;
  }

  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    return this.coder ? this.b.decode(this.coder, payload, offset, length, out) : -1;
  }

  close(): void {
    if (this.coder) this.b.close(this.coder);
    this.coder = null;
  }
}
