import { loadAddon } from '../../runtime/nativeAddon.js';
import { type FrameBinding, NativeDecoder, NativeEncoder, requireBinding } from './NativeCodec.js';

/**
 * G.729 through the system's bcg729 (Debian's libbcg729-0; the library rtpengine uses), by a
 * small N-API binding built with the relay (`npm run build`, src/media/codecs/native). The
 * encoder is G.729 Annex A without voice activity detection (`annexb=no`: every 10 ms frame is
 * 10 bytes); the decoder also takes Annex B silence descriptors from a peer that sends them, and
 * conceals one lost frame for a `length` of 0. A packet costs one native call.
 */
interface Binding extends FrameBinding {
  encoder(): object;
  decoder(): object;
}

/** Samples in one G.729 frame (10 ms at 8 kHz). */
export const G729_FRAME_SAMPLES = 80;

/** Whether the G.729 binding was built (libbcg729-dev present at build time). */
export function g729Available(): boolean {
  return loadAddon<Binding>('g729') !== null;
}

const binding = (): Binding => requireBinding<Binding>('g729', 'G.729', 'libbcg729-dev');

export class G729Encoder extends NativeEncoder {
  constructor(b = binding()) {
    super(b, b.encoder(), 8000);
  }
}

export class G729Decoder extends NativeDecoder {
  constructor(b = binding()) {
    super(b, b.decoder(), 8000);
  }
}
