import { loadAddon } from '../../runtime/nativeAddon.js';
import { type FrameBinding, NativeDecoder, NativeEncoder, requireBinding } from './NativeCodec.js';

/**
 * speex through the system's libspeex (Debian's libspeex1), by a small N-API binding built with
 * the relay (`npm run build`, src/media/codecs/native): narrowband at 8 kHz, wideband at 16 kHz,
 * ultra-wideband at 32 kHz, 20 ms frames, constant bit rate. A packet costs one native call.
 */
interface Binding extends FrameBinding {
  encoder(rate: number, bitrate: number): object;
  decoder(rate: number): object;
}

export type SpeexRate = 8000 | 16000 | 32000;

/** rtpengine 10.5's speex bit rate: the mode's nearest at or below it is used. */
export const SPEEX_DEFAULT_BITRATE = 11000;

/** Whether the speex binding was built (libspeex-dev present at build time). */
export function speexAvailable(): boolean {
  return loadAddon<Binding>('speex') !== null;
}

export const isSpeexRate = (rate: number): rate is SpeexRate => rate === 8000 || rate === 16000 || rate === 32000;

const binding = (): Binding => requireBinding<Binding>('speex', 'speex', 'libspeex-dev');

export class SpeexEncoder extends NativeEncoder {
  /** `samples` per call: whole 20 ms frames, all packed into one packet. */
  constructor(sampleRate: SpeexRate, bitrate = SPEEX_DEFAULT_BITRATE, b = binding()) {
    super(b, b.encoder(sampleRate, bitrate), sampleRate);
  }
}

export class SpeexDecoder extends NativeDecoder {
  constructor(sampleRate: SpeexRate, b = binding()) {
    super(b, b.decoder(sampleRate), sampleRate);
  }
}
