import { loadAddon } from '../../runtime/nativeAddon.js';
import type { SrtpSuite } from './SrtpSuite.js';

/**
 * The packet crypto of SRTP and SRTCP (AES-CM, AES-f8, AES-GCM, HMAC-SHA1), by a small C addon
 * built with the relay (`npm run build`, src/media/transforms/native) on the OpenSSL inside
 * Node itself. Chosen by measurement (docs/performance.md): a packet is one native call that
 * works in place in its buffer, keys and HMAC pad states are set up once per session, where
 * Node's crypto API costs a cipher or HMAC object, a buffer and several calls per packet.
 */
interface Binding {
  context(mode: number, encryptionKey: Uint8Array, salt: Uint8Array, authKey: Uint8Array | null, tagLength: number): object;
  protectRtp(context: object, src: Uint8Array, dst: Uint8Array, headerLength: number, length: number, roc: number): boolean;
  unprotectRtp(context: object, packet: Uint8Array, headerLength: number, end: number, roc: number, decrypt: boolean): boolean;
  protectRtcp(context: object, src: Uint8Array, dst: Uint8Array, length: number, word: number): boolean;
  unprotectRtcp(context: object, packet: Uint8Array, length: number, decrypt: boolean): boolean;
}

const MODES = { ctr: 0, f8: 1, null: 2, gcm: 3 } as const;

function load(): Binding {
  const b = loadAddon<Binding>('srtp');
  // Built with the relay from Node's own headers: without it the build was incomplete.
  if (b === null) throw new Error('SRTP addon not built (dist/native/srtp.node): run `npm run build` with a C compiler');
  return b;
}

const native = load();

/** One direction's session keys for SRTP or for SRTCP, as a native context. */
export class SrtpCipher {
  private readonly ctx: object;

  /** `authKey` is null for GCM; `tagLength` is the suite's SRTP or SRTCP tag. */
  constructor(mode: SrtpSuite['mode'], encryptionKey: Buffer, salt: Buffer, authKey: Buffer | null, tagLength: number) {
    this.ctx = native.context(MODES[mode], encryptionKey, salt, authKey, tagLength);
  }

  /** dst = src[0, length) encrypted (src may be dst), its tag at dst[length]; false when dst has no room. */
  protectRtp(src: Buffer, dst: Buffer, headerLength: number, length: number, roc: number): boolean {
    return native.protectRtp(this.ctx, src, dst, headerLength, length, roc);
  }

  /** Whether p's tag at p[end] authenticates it; decrypts p[headerLength, end) in place if so and `decrypt`. */
  unprotectRtp(p: Buffer, headerLength: number, end: number, roc: number, decrypt: boolean): boolean {
    return native.unprotectRtp(this.ctx, p, headerLength, end, roc, decrypt);
  }

  /** dst = src[0, length) encrypted (unless the E flag of `word` is clear), with E|index and the tag. */
  protectRtcp(src: Buffer, dst: Buffer, length: number, word: number): boolean {
    return native.protectRtcp(this.ctx, src, dst, length, word);
  }

  /** Whether the SRTCP packet p[0, length) authenticates; decrypts it in place if so, `decrypt` and its E flag. */
  unprotectRtcp(p: Buffer, length: number, decrypt: boolean): boolean {
    return native.unprotectRtcp(this.ctx, p, length, decrypt);
  }
}
