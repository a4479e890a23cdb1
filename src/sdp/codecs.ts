import { STATIC_PAYLOADS, type MediaDescription } from './SessionDescription.js';

/** A codec of an SDP as the relay reads it (negotiation itself is in CodecStore and call/CodecNegotiation). */
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
