/** A payload format as negotiated in SDP. */
export interface PayloadFormat {
  pt: number;
  /** Encoding name as written (`PCMU`, `opus`, `telephone-event`). */
  encoding: string;
  /** RTP clock rate. */
  clock: number;
  channels: number;
  /** The a=fmtp parameters, if any. */
  fmtp?: string;
}

/**
 * One direction of a transcoded stream, as signalling decides it; the call's record keeps it so
 * a restarted or standby relay rebuilds the same pipeline. Plain data (structured-clone and JSON
 * safe).
 */
export interface TranscodeSettings {
  /** What the sender may use: audio codecs, telephone-event, CN. */
  input: PayloadFormat[];
  /** The codec sent on. */
  output: PayloadFormat;
  /** telephone-event and CN formats the receiver negotiated (events are dropped without one). */
  outputExtras: PayloadFormat[];
  /** Duration of a packet sent, in ms (10, 20, 30, ...). */
  ptime: number;
  /** SSRC of the packets sent. */
  ssrc: number;
}

/** The most input formats a pipeline decodes: a hostile SDP cannot make it hold more codecs. */
export const MAX_INPUT_FORMATS = 8;
