import { emptyDict, type NgDict, type NgValue } from './NgRequest.js';

/**
 * `rtpp-flags`: the flags of a request as one string in Kamailio's syntax, as newer Kamailio
 * modules send them for the daemon to parse (rtpengine's `parse_rtpp_flags`). Tokens are
 * separated by blanks; `flag` is a flag, `key=value` a key, `key=[a b]` a list and
 * `key=[k=v k2=[x]]` a dictionary. On top of that, rtpengine's shorthands: `transcode=PCMA`
 * and `codec-strip=…` (the codec flags), `RTP`/`SRTP`/`AVPF`/`DTLS` and the profile names
 * (`transport-protocol`), `internal`/`external` and `direction=…` (the `direction` list),
 * `to-tag=…` (the key and the flag). The result is what the same request carries as keys and
 * flags in dictionary form, so both forms go through one parser.
 */
export interface RtppFlags {
  /** Keys in the order they came. */
  keys: [string, NgValue][];
  flags: string[];
}

/** Brackets deeper than this are taken as text: a hostile string cannot nest without bound. */
const MAX_DEPTH = 8;

const CODEC_KEYS = new Map<string, string>([
  ['transcode', 'transcode-'],
  ['codec-transcode', 'transcode-'],
  ['codec-strip', 'codec-strip-'],
  ['codec-offer', 'codec-offer-'],
  ['codec-mask', 'codec-mask-'],
  ['codec-set', 'codec-set-'],
  ['codec-accept', 'codec-accept-'],
  ['codec-except', 'codec-except-'],
]);

/** Transport tokens and the bits of rtpengine's profile choice (0x100: given; 1 SRTP, 2 AVPF, 4 DTLS). */
const TRANSPORT_BITS = new Map<string, (t: number) => number>([
  ['RTP', (t) => (t | 0x100) & ~0x001],
  ['AVP', (t) => (t | 0x100) & ~0x002],
  ['SRTP', (t) => t | 0x101],
  ['AVPF', (t) => t | 0x102],
  ['DTLS', (t) => t | 0x104],
  ['RTP/AVP', () => 0x100],
  ['RTP/SAVP', () => 0x101],
  ['RTP/AVPF', () => 0x102],
  ['RTP/SAVPF', () => 0x103],
  ['UDP/TLS/RTP/SAVP', () => 0x104],
  ['UDP/TLS/RTP/SAVPF', () => 0x106],
]);
const PROFILES: readonly (string | undefined)[] = ['RTP/AVP', 'RTP/SAVP', 'RTP/AVPF', 'RTP/SAVPF', 'UDP/TLS/RTP/SAVP', undefined, 'UDP/TLS/RTP/SAVPF'];

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

class Reader {
  at = 0;
  constructor(readonly text: string) {}

  skipBlanks(): void {
    while (this.at < this.text.length && isBlank(this.text[this.at]!)) this.at++;
  }

  /** A run of text up to a blank, `=` (when `stopAtEquals`), or a closing bracket inside a container. */
  word(stopAtEquals: boolean, depth: number): string {
    const start = this.at;
    while (this.at < this.text.length) {
      const c = this.text[this.at]!;
      if (isBlank(c) || (stopAtEquals && c === '=') || (depth > 0 && c === ']')) break;
      this.at++;
    }
    return this.text.slice(start, this.at);
  }

  /** A value: text, or a bracketed list or dictionary (a dictionary when its first entry is `k=…`). */
  value(depth: number): NgValue {
    if (this.text[this.at] !== '[' || depth >= MAX_DEPTH) return this.word(false, depth);
    this.at++;
    this.skipBlanks();
    if (this.isDictEntry(depth + 1)) return this.dict(depth + 1);
    const list: NgValue[] = [];
    for (;;) {
      this.skipBlanks();
      if (this.at >= this.text.length) return list;
      if (this.text[this.at] === ']') {
        this.at++;
        return list;
      }
      const before = this.at;
      list.push(this.value(depth + 1));
      // A stray `[` deeper than allowed is text; never loop without moving on.
      if (this.at === before) this.at++;
    }
  }

  private isDictEntry(depth: number): boolean {
    const save = this.at;
    const key = this.word(true, depth);
    const eq = this.text[this.at] === '=';
    this.at = save;
    return key !== '' && eq;
  }

  private dict(depth: number): NgDict {
    const d = emptyDict();
    for (;;) {
      this.skipBlanks();
      if (this.at >= this.text.length) return d;
      if (this.text[this.at] === ']') {
        this.at++;
        return d;
      }
      const key = this.word(true, depth);
      if (this.text[this.at] !== '=' || key === '') {
        // An entry without `=` ends the dictionary here, as rtpengine gives up on it.
        if (this.at < this.text.length && this.text[this.at] !== ']') this.at++;
        continue;
      }
      this.at++;
      const v = this.value(depth);
      if (!Object.prototype.hasOwnProperty.call(d, key)) d[key] = v;
    }
  }
}

const strings = (v: NgValue): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

/** Parses an `rtpp-flags` string (linear in its length). */
export function parseRtppFlags(text: string): RtppFlags {
  const out: RtppFlags = { keys: [], flags: [] };
  const direction: string[] = [];
  let transport = 0;
  const r = new Reader(text);
  for (;;) {
    r.skipBlanks();
    if (r.at >= text.length) break;
    // A closing bracket with nothing open (what a too-deep value left) is no flag.
    if (text[r.at] === ']') {
      r.at++;
      continue;
    }
    const key = r.word(true, 0);
    if (key === '') {
      r.at++;
      continue;
    }
    if (text[r.at] !== '=') {
      const bits = TRANSPORT_BITS.get(key);
      if (bits) transport = bits(transport);
      else if (key === 'internal' || key === 'external') direction.push(key);
      else out.flags.push(key);
      continue;
    }
    r.at++;
    const value = r.value(0);
    const codec = CODEC_KEYS.get(key);
    if (codec !== undefined) {
      for (const c of strings(value)) out.flags.push(codec + c);
    } else if (key === 'direction' && typeof value === 'string') {
      direction.push(value);
    } else {
      if (key === 'to-tag' || key === 'to_tag') out.flags.push('to-tag');
      if (key === 'from-tag') out.flags.push('directional');
      out.keys.push([key, value]);
    }
  }
  if (direction.length > 0) out.keys.push(['direction', direction.slice(0, 2)]);
  const profile = transport ? PROFILES[transport & 0x7] : undefined;
  if (profile !== undefined) out.keys.push(['transport-protocol', profile]);
  return out;
}
