/**
 * The seam between the media engine and a codec: interleaved 16-bit samples in, payload bytes
 * out, and back. Implementations keep their state between frames and allocate nothing per call;
 * the caller owns every buffer.
 */
export interface AudioEncoder {
  /** Samples per second per channel the encoder takes. */
  readonly sampleRate: number;
  readonly channels: number;
  /**
   * Encodes `samples` samples per channel from `pcm` (interleaved) into `out`; returns the number
   * of bytes written.
   */
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number;
  /** Releases what the codec holds outside the JavaScript heap. */
  close(): void;
}

export interface AudioDecoder {
  readonly sampleRate: number;
  readonly channels: number;
  /**
   * Decodes `length` bytes of `payload` from `offset` (an RTP packet's payload, in place) into
   * `out` (interleaved); returns the number of samples per channel written, or -1 when the
   * payload is not valid for this codec.
   */
  decode(payload: Uint8Array, offset: number, length: number, out: Int16Array): number;
  close(): void;
}
