/**
 * The `codec` operations of an offer (rtpengine's codec flags). Each entry is a codec name
 * (`PCMA`), a name with clock rate and parameters (`opus/48000/2`), `all` or `full` (strip),
 * or for `set` a full specification. Matching is case-insensitive.
 */
export interface CodecOptions {
  /** Removed from the SDP passed on; `all` removes every codec. */
  strip: readonly string[];
  /** Spared by `strip` (`strip: [all], except: [PCMU]`). */
  except: readonly string[];
  /** Kept (or put back, if stripped) in the SDP passed on. */
  offer: readonly string[];
  /** Removed from the SDP passed on, still accepted from the offerer (needs a transcoder). */
  mask: readonly string[];
  /** Added to the SDP passed on (needs a transcoder). */
  transcode: readonly string[];
  /** In the answer, taken as if the answerer had accepted them. */
  accept: readonly string[];
  /** Like mask, and the offerer is answered with them too. */
  consume: readonly string[];
  /** Replaces the parameters of a matching codec. */
  set: readonly string[];
}

export const NO_CODEC_OPTIONS: CodecOptions = { strip: [], except: [], offer: [], mask: [], transcode: [], accept: [], consume: [], set: [] };

export function hasCodecOptions(c: CodecOptions): boolean {
  return Object.values(c).some((l: readonly string[]) => l.length > 0);
}
