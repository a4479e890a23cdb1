import { loadAddon } from '../../runtime/nativeAddon.js';
import type { AudioDecoder, AudioEncoder } from './AudioCodec.js';

/**
 * G.729 through the system's bcg729 (Debian's libbcg729-0; the library rtpengine uses), by a
 * small N-API binding built with the relay (`npm run build`, src/media/codecs/native). The
 * encoder is G.729 Annex A without voice activity detection (`annexb=no`: every 10 ms frame is
 * 10 bytes); the decoder also takes Annex B silence descriptors from a peer that sends them.
 * A packet costs one native call.
 */
interface Binding {
  encoder(): object;
  decoder(): object;
  encode(coder: object, pcm: Int16Array, samples: number, out: Uint8Array): number;
  decode(coder: object, data: Uint8Array, offset: number, length: number, out: Int16Array): number;
  close(coder: object): void;
}

/** Samples in one G.729 frame (10 ms at 8 kHz). */
export const G729_FRAME_SAMPLES = 80;

const load = (): Binding | null => loadAddon<Binding>('g729');

/** Whether the G.729 binding was built (libbcg729-dev present at build time). */
export function g729Available(): boolean {
  return load() !== null;
}

function binding(): Binding {
  const b = load();
  if (!b) throw new Error('G.729 codec not built (libbcg729-dev missing at build time)');
  return b;
}

export class G729Encoder implements AudioEncoder {
  readonly sampleRate = 8000;
  readonly channels = 1;
  private readonly b = binding();
  private coder: object | null = this.b.encoder();

  /** `samples` must be a whole number of 10 ms frames. */
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    return this.coder ? this.b.encode(this.coder, pcm, samples, out) : -1;
  }

  close(): void {
    if (this.coder) this.b.close(this.coder);
    this.coder = null;
  }
}

export class G729Decoder implements AudioDecoder {
  readonly sampleRate = 8000;
  readonly channels = 1;
  private readonly b = binding();
  private coder: object | null = this.b.decoder();

  /** A `length` of 0 conceals one lost 10 ms frame. */
  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number {
    return this.coder ? this.b.decode(this.coder, payload, offset, length, out) : -1;
  }

  close(): void {
    if (this.coder) this.b.close(this.coder);
    this.coder = null;
  }
}
