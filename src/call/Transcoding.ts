import { randomInt } from 'node:crypto';
import { canTranscode } from '../media/engine/CodecCatalog.js';
import type { PayloadFormat, TranscodeSettings } from '../media/engine/TranscodeSettings.js';
import { codecLines, isDtmf, isSupplemental, TranscodingRequiredError, type Codec } from '../sdp/codecs.js';

/**
 * Where an answer needs the relay to convert media, and how: the answerer picked a codec the
 * offerer never offered (one the relay added with `transcode`, or the offerer's own was masked),
 * so the offerer is answered with its own best codec and each direction gets a pipeline.
 * Decided once per answer, from what the offer recorded; the same codecs again keep the SSRCs.
 */
export interface AnswerTranscoding {
  /** Payload types answered to the offerer: its codec, then its telephone-event. */
  offererFormats: string[];
  /** Their a=rtpmap/a=fmtp lines (the answerer's SDP does not describe them). */
  codecLines: Map<string, string[]>;
  /** For the offerer's stream (what it sends, converted for the answerer). */
  fromOfferer: TranscodeSettings;
  /** For the answerer's stream. */
  fromAnswerer: TranscodeSettings;
}

/** Whether the engine can convert to and from this codec. */
export const transcodable = (c: Omit<Codec, 'pt'>): boolean => canTranscode(c);

export const sameCodec = (a: Omit<Codec, 'pt'>, b: Omit<Codec, 'pt'>): boolean =>
  a.encoding.toLowerCase() === b.encoding.toLowerCase() && a.clock === b.clock && a.channels === b.channels;

/** A codec as the pipeline takes it. */
export const format = (c: Codec): PayloadFormat => ({ pt: Number(c.pt), encoding: c.encoding, clock: c.clock, channels: c.channels, ...(c.fmtp ? { fmtp: c.fmtp } : {}) });

/**
 * The transcoding an answer needs, or null when the answerer chose a codec the offerer sends.
 * `offerer`: every codec of the offerer's SDP (masked ones included); `answer`: the codecs kept
 * from the answer; `previous`: the settings in place (their SSRCs are kept).
 */
export function planAnswerTranscoding(
  offerer: readonly Codec[],
  answer: readonly Codec[],
  ptimes: { offerer: number | undefined; answerer: number | undefined },
  previous: { fromOfferer: TranscodeSettings | null; fromAnswerer: TranscodeSettings | null },
): AnswerTranscoding | null {
  const chosen = answer.find((c) => !isSupplemental(c));
  if (!chosen || offerer.length === 0) return null;
  if (offerer.some((c) => !isSupplemental(c) && sameCodec(c, chosen))) return null;
  const own = offerer.find((c) => !isSupplemental(c) && transcodable(c));
  if (!transcodable(chosen) || !own) throw new TranscodingRequiredError(`no transcoder for ${chosen.encoding}`);
  // telephone-event goes back to the offerer only when the answerer took it too (as rtpengine).
  const offererEvents = answer.some((c) => isDtmf(c)) ? offerer.filter((c) => isDtmf(c)) : [];
  const events = offererEvents.filter((c) => c.clock === own.clock);
  const answered = [own, ...(events.length > 0 ? events : offererEvents.slice(0, 1))];
  return {
    offererFormats: answered.map((c) => c.pt),
    codecLines: new Map(answered.map((c) => [c.pt, codecLines(c)])),
    fromOfferer: {
      input: offerer.filter((c) => c.encoding !== '').map(format),
      output: format(chosen),
      outputExtras: answer.filter((c) => isSupplemental(c)).map(format),
      ptime: ptimes.answerer ?? 20,
      ssrc: previous.fromOfferer?.ssrc ?? randomInt(1, 0xffffffff),
    },
    fromAnswerer: {
      input: answer.filter((c) => c.encoding !== '').map(format),
      output: format(own),
      outputExtras: answered.slice(1).map(format),
      ptime: ptimes.offerer ?? 20,
      ssrc: previous.fromAnswerer?.ssrc ?? randomInt(1, 0xffffffff),
    },
  };
}
