import { loadAddon } from '../../runtime/nativeAddon.js';
import { type FrameBinding, NativeDecoder, NativeEncoder, requireBinding } from './NativeCodec.js';

/**
 * GSM 06.10 full rate through the system's libgsm (Debian's libgsm1), by a small N-API binding
 * built with the relay (`npm run build`, src/media/codecs/native). A frame is 20 ms: 160 samples,
 * 33 bytes (RFC 3551); a packet may carry several.
 */
interface Binding extends FrameBinding {
  create(): object;
}

/** Samples in one GSM frame (20 ms at 8 kHz). */
export const GSM_FRAME_SAMPLES = 160;
/** Bytes in one GSM frame. */
export const GSM_FRAME_BYTES = 33;

/** Whether the GSM binding was built (libgsm1-dev present at build time). */
export function gsmAvailable(): boolean {
  return loadAddon<Binding>('gsm') !== null;
}

const binding = (): Binding => requireBinding<Binding>('gsm', 'GSM', 'libgsm1-dev');

export class GsmEncoder extends NativeEncoder {
  constructor(b = binding()) {
    super(b, b.create(), 8000);
  }
}

export class GsmDecoder extends NativeDecoder {
  constructor(b = binding()) {
    super(b, b.create(), 8000);
  }
}
