import { loadAddon } from '../../runtime/nativeAddon.js';
import { type FrameBinding, NativeDecoder, requireBinding } from './NativeCodec.js';

/**
 * RFC 3389 comfort noise (CN) decoded to audio by libavcodec's comfort-noise decoder, through a
 * small N-API binding built with the relay (`npm run build`, src/media/codecs/native/cng.c).
 * rtpengine decodes CN with the same decoder, so the noise is sample for sample rtpengine's: the
 * decoder's generator starts from a fixed seed and its LPC filter runs in float arithmetic that a
 * port would have to reproduce exactly. Each payload (level in -dBov, optional reflection
 * coefficients) becomes one packet's worth of noise at 8 kHz.
 */
interface Binding extends FrameBinding {
  create(samples: number): object;
}

/** The decoder's rate: libavcodec's comfort-noise decoder always runs at 8 kHz. */
export const CN_RATE = 8000;
/** The most samples one payload may become (the decoder's buffer: 80 ms). */
export const CN_MAX_SAMPLES = 640;

/** Whether the comfort-noise binding was built (libavcodec-dev present at build time). */
export function comfortNoiseAvailable(): boolean {
  return loadAddon<Binding>('cng') !== null;
}

export class ComfortNoiseDecoder extends NativeDecoder {
  /** `samples`: the noise one payload becomes, at 8 kHz (the receiver's packet time, as rtpengine makes it). */
  constructor(samples: number, b = requireBinding<Binding>('cng', 'comfort noise', 'libavcodec-dev')) {
    super(b, b.create(samples), CN_RATE);
  }
}
