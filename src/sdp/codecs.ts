import type { CodecOptions } from './CodecOptions.js';
import { STATIC_PAYLOADS, type MediaDescription } from './SessionDescription.js';

/**
 * Codec handling of an offer and an answer as rtpengine 10.5 does it when no transcoding is
 * involved: `strip`, `except`, `offer`, `mask` choose the payload types passed on; the answer
 * keeps only what was offered (GH 1499). Anything that would need a transcoder (adding a codec, answering
 * with a codec the answerer did not pick, repacketising) is refused with TranscodingRequiredError.
 */
export class TranscodingRequiredError extends Error {}

export interface Codec {
  pt: string;
  /** Encoding name as written, e.g. `PCMU`, `opus`. */
  encoding: string;
  clock: number;
  /** Channels; 1 when not written. */
  channels: number;
}

/** A payload type's codec, from a=rtpmap or the static table; null for an unknown dynamic type. */
export function codecOf(m: MediaDescription, pt: string): Codec | null {
  const map = m.rtpmap.get(pt) ?? STATIC_PAYLOADS.get(pt);
  if (!map) return null;
  const [encoding = '', clock = '', channels = ''] = map.split('/');
  return { pt, encoding, clock: Number(clock) || 0, channels: Number(channels) || 1 };
}

const isDtmf = (c: Codec | null): boolean => c?.encoding.toLowerCase() === 'telephone-event';

/**
 * Whether a codec matches a flag's codec specification: `NAME`, `NAME/CLOCK`,
 * `NAME/CLOCK/CHANNELS` (case-insensitive), or `all` / `full`.
 */
export function matches(c: Codec | null, spec: string): boolean {
  const s = spec.toLowerCase();
  if (s === 'all' || s === 'full') return true;
  if (!c) return false;
  const [name, clock, channels] = s.split('/');
  if (name !== c.encoding.toLowerCase()) return false;
  if (clock !== undefined && clock !== '' && Number(clock) !== c.clock) return false;
  if (channels !== undefined && channels !== '' && Number(channels) !== c.channels) return false;
  return true;
}

const anyMatch = (c: Codec | null, specs: readonly string[]): boolean => specs.some((s) => matches(c, s));

/** The result of an offer's codec operations on one m= section. */
export interface OfferCodecs {
  /** Payload types passed on, in order. */
  formats: string[];
  /** Payload types removed with `mask`: still accepted from the offerer. */
  masked: string[];
}

/** Applies the offer's codec flags to an RTP m= section. */
export function offerCodecs(m: MediaDescription, o: CodecOptions): OfferCodecs {
  const all = m.formats.map((pt) => ({ pt, codec: codecOf(m, pt) }));
  const stripped = (x: { codec: Codec | null }): boolean =>
    anyMatch(x.codec, o.strip) && !anyMatch(x.codec, o.except);
  let kept = all.filter((x) => !stripped(x));
  // Stripping every codec leaves the list as it was (GH 1373).
  if (o.offer.length === 0 && kept.every((x) => isDtmf(x.codec)) && all.some((x) => !isDtmf(x.codec))) kept = [...all];
  // `offer` puts stripped codecs back, in the order the flag names them.
  for (const spec of o.offer) {
    for (const x of all) if (matches(x.codec, spec) && spec.toLowerCase() !== 'all' && !kept.includes(x)) kept.push(x);
  }
  const masked = kept.filter((x) => anyMatch(x.codec, o.mask));
  kept = kept.filter((x) => !masked.includes(x));
  // A codec to add, not only to keep: that needs a transcoder.
  for (const spec of [...o.transcode, ...o.offer]) {
    if (spec.toLowerCase() === 'all' || spec.toLowerCase() === 'full') continue;
    if (!all.some((x) => matches(x.codec, spec))) throw new TranscodingRequiredError(`codec '${spec}' is not offered`);
  }
  for (const spec of o.consume) {
    if (all.some((x) => matches(x.codec, spec))) throw new TranscodingRequiredError(`codec-consume '${spec}'`);
  }
  for (const spec of o.set) {
    const [name = '', clock, channels] = spec.split('/');
    const same = all.filter((x) => x.codec && x.codec.encoding.toLowerCase() === name.toLowerCase());
    for (const x of same) {
      if ((clock && Number(clock) !== x.codec!.clock) || (channels && Number(channels) !== x.codec!.channels)) {
        throw new TranscodingRequiredError(`codec-set '${spec}'`);
      }
    }
  }
  const media = kept.filter((x) => !isDtmf(x.codec));
  if (all.some((x) => !isDtmf(x.codec)) && media.length === 0) throw new TranscodingRequiredError('no codec left to offer');
  return { formats: kept.map((x) => x.pt), masked: masked.map((x) => x.pt) };
}

const sameCodec = (a: Codec, b: Codec): boolean =>
  a.encoding.toLowerCase() === b.encoding.toLowerCase() && a.clock === b.clock && a.channels === b.channels;

/**
 * The answer's payload types that were offered to the answerer (GH 1499), in the answer's
 * order. `offered` is the offer as passed on; `accept` the offer's `codec-accept` list.
 */
export function answerCodecs(answer: MediaDescription, offered: readonly Codec[], accept: readonly string[]): string[] {
  const kept = answer.formats.filter((pt) => {
    const c = codecOf(answer, pt);
    if (!c) return offered.some((o) => o.pt === pt);
    return offered.some((o) => sameCodec(o, c));
  });
  if (accept.length > 0) {
    const media = kept.map((pt) => codecOf(answer, pt)).filter((c) => c && !isDtmf(c));
    if (!media.some((c) => anyMatch(c, accept))) throw new TranscodingRequiredError('codec-accept');
  }
  return kept;
}

/** The codecs of the given payload types (unknown dynamic types keep only their number). */
export function codecList(m: MediaDescription, formats: readonly string[]): Codec[] {
  return formats.map((pt) => codecOf(m, pt) ?? { pt, encoding: '', clock: 0, channels: 1 });
}

/** The a=ptime of a section, if any. */
export function ptimeOf(m: MediaDescription): number | undefined {
  for (const l of m.lines) {
    const r = /^a=ptime:(\d+)/.exec(l);
    if (r) return Number(r[1]);
  }
  return undefined;
}
