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
  /**
   * Towards a receiver with CN from a sender without: a packet whose samples are all within
   * ±this (16-bit) is sent as CN (0: never).
   */
  silence?: number;
}

/** The most input formats a pipeline decodes: a hostile SDP cannot make it hold more codecs. */
export const MAX_INPUT_FORMATS = 8;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const int = (v: unknown, lo: number, hi: number): boolean => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

function formatOf(v: unknown): PayloadFormat | null {
  if (!isObj(v) || !int(v['pt'], 0, 127) || typeof v['encoding'] !== 'string' || v['encoding'].length > 32) return null;
  if (!int(v['clock'], 1, 192000) || !int(v['channels'], 1, 8)) return null;
  const f: PayloadFormat = { pt: v['pt'] as number, encoding: v['encoding'], clock: v['clock'] as number, channels: v['channels'] as number };
  if (typeof v['fmtp'] === 'string' && v['fmtp'].length <= 512) f.fmtp = v['fmtp'];
  return f;
}

/** Settings read from a record (another relay's, maybe hostile): checked and bounded, else null. */
export function transcodeSettingsOf(v: unknown): TranscodeSettings | null {
  if (!isObj(v) || !Array.isArray(v['input']) || !Array.isArray(v['outputExtras'])) return null;
  const input = (v['input'] as unknown[]).slice(0, 4 * MAX_INPUT_FORMATS).map(formatOf);
  const extras = (v['outputExtras'] as unknown[]).slice(0, 4).map(formatOf);
  const output = formatOf(v['output']);
  if (!output || input.some((f) => f === null) || extras.some((f) => f === null)) return null;
  if (!int(v['ptime'], 10, 120) || !int(v['ssrc'], 0, 0xffffffff)) return null;
  const s: TranscodeSettings = { input: input as PayloadFormat[], output, outputExtras: extras as PayloadFormat[], ptime: v['ptime'] as number, ssrc: v['ssrc'] as number };
  if (int(v['silence'], 1, 32767)) s.silence = v['silence'] as number;
  return s;
}
