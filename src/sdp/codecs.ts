import type { CodecOptions } from './CodecOptions.js';
import { STATIC_PAYLOADS, type MediaDescription } from './SessionDescription.js';

/**
 * Codec handling of an offer and an answer as rtpengine 10.5 does it: `strip`, `except`,
 * `offer`, `mask` choose the payload types passed on, `transcode` adds codecs the caller's
 * transcoder can produce; the answer keeps only what was
 * offered (GH 1499). What no transcoder can do is refused with TranscodingRequiredError.
 */
export class TranscodingRequiredError extends Error {}

export interface Codec {
  pt: string;
  /** Encoding name as written, e.g. `PCMU`, `opus`. */
  encoding: string;
  clock: number;
  /** Channels; 1 when not written. */
  channels: number;
  /** The a=fmtp parameters, if any. */
  fmtp?: string;
}

/** A payload type's codec, from a=rtpmap or the static table; null for an unknown dynamic type. */
export function codecOf(m: MediaDescription, pt: string): Codec | null {
  const map = m.rtpmap.get(pt) ?? STATIC_PAYLOADS.get(pt);
  if (!map) return null;
  const [encoding = '', clock = '', channels = ''] = map.split('/');
  const c: Codec = { pt, encoding, clock: Number(clock) || 0, channels: Number(channels) || 1 };
  const prefix = `a=fmtp:${pt} `;
  const fmtp = m.lines.find((l) => l.startsWith(prefix));
  if (fmtp) c.fmtp = fmtp.slice(prefix.length);
  return c;
}

export const isDtmf = (c: Codec | null): boolean => c?.encoding.toLowerCase() === 'telephone-event';
/** telephone-event and comfort noise: they go with an audio codec, never alone. */
export const isSupplemental = (c: Codec | null): boolean => isDtmf(c) || c?.encoding.toLowerCase() === 'cn';

/** What a codec named in a flag is when the relay adds it: RFC 3551's static types, opus as browsers offer it. */
const KNOWN: readonly Omit<Codec, 'pt'>[] = [
  { encoding: 'PCMU', clock: 8000, channels: 1 },
  { encoding: 'PCMA', clock: 8000, channels: 1 },
  { encoding: 'G722', clock: 8000, channels: 1 },
  { encoding: 'opus', clock: 48000, channels: 2 },
  { encoding: 'telephone-event', clock: 8000, channels: 1 },
];
const STATIC_PT: Readonly<Record<string, string>> = { pcmu: '0', pcma: '8', g722: '9' };

/** The codec a flag's specification (`PCMA`, `opus/48000/2`) adds, without its payload type; null if unknown. */
export function codecOfSpec(spec: string): Omit<Codec, 'pt'> | null {
  const [name = '', clock, channels] = spec.split('/');
  const k = KNOWN.find((c) => c.encoding.toLowerCase() === name.toLowerCase());
  if (!k) return null;
  return { encoding: k.encoding, clock: clock ? Number(clock) : k.clock, channels: channels ? Number(channels) : k.channels };
}

/** A payload type for an added codec: its static one, else the first dynamic type not taken. */
export function payloadTypeFor(c: Omit<Codec, 'pt'>, taken: ReadonlySet<string>): string | null {
  const st = STATIC_PT[c.encoding.toLowerCase()];
  if (st !== undefined && c.clock === 8000 && c.channels === 1) return st;
  for (let pt = 96; pt < 128; pt++) if (!taken.has(String(pt))) return String(pt);
  return null;
}

/** The a=rtpmap (and a=fmtp) lines describing a codec. */
export function codecLines(c: Codec): string[] {
  const lines = [`a=rtpmap:${c.pt} ${c.encoding}/${c.clock}${c.channels > 1 ? `/${c.channels}` : ''}`];
  if (c.fmtp) lines.push(`a=fmtp:${c.pt} ${c.fmtp}`);
  return lines;
}

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
  /** Codecs the relay adds (transcoding), with their payload types; listed in `formats` too. */
  added: Codec[];
}

/**
 * Applies the offer's codec flags to an RTP m= section. `transcodable` says which codecs the
 * relay can convert to and from; without it, adding a codec is refused.
 */
export function offerCodecs(m: MediaDescription, o: CodecOptions, transcodable?: (c: Omit<Codec, 'pt'>) => boolean): OfferCodecs {
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
  // A codec to add, not only to keep: that needs a transcoder from one the offerer sends.
  const added: Codec[] = [];
  const taken = new Set(m.formats);
  const canFrom = all.some((x) => x.codec && !isSupplemental(x.codec) && transcodable?.(x.codec));
  // `offer` of a codec the offerer does not have is ignored (rtpengine 10.5); `transcode` adds it.
  for (const spec of o.transcode) {
    if (spec.toLowerCase() === 'all' || spec.toLowerCase() === 'full') continue;
    if (all.some((x) => matches(x.codec, spec)) || added.some((c) => matches(c, spec))) continue;
    const c = codecOfSpec(spec);
    if (!c || !canFrom || !transcodable?.(c)) throw new TranscodingRequiredError(`codec '${spec}' is not offered`);
    const pt = payloadTypeFor(c, taken);
    if (pt === null) throw new TranscodingRequiredError('no payload type left');
    taken.add(pt);
    added.push({ pt, ...c });
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
  if (all.some((x) => !isDtmf(x.codec)) && media.length === 0 && added.length === 0) throw new TranscodingRequiredError('no codec left to offer');
  // rtpengine's order: the offerer's codecs, the added ones, then telephone-event and CN.
  const main = kept.filter((x) => !isSupplemental(x.codec)).map((x) => x.pt);
  const extra = kept.filter((x) => isSupplemental(x.codec)).map((x) => x.pt);
  const formats = added.length === 0 ? kept.map((x) => x.pt) : [...main, ...added.map((c) => c.pt), ...extra];
  return { formats, masked: masked.map((x) => x.pt), added };
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
