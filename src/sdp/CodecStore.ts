import type { MediaDescription } from './SessionDescription.js';

/**
 * The codecs of one side of a media section, in preference order, with rtpengine 10.5's
 * operations on them (populate, strip, offer, transcode, accept, mask tracking, the
 * telephone-event/CN per clock rate bookkeeping). An offer or answer runs these in rtpengine's
 * order (see CodecNegotiation.ts); the list is what the SDP of that side lists.
 */
export interface PayloadType {
  pt: number;
  /** Encoding name as written (`PCMU`, `opus`); '' for an unknown dynamic type. */
  encoding: string;
  clock: number;
  channels: number;
  /** a=fmtp parameters ('' when none). */
  fmtp: string;
  /** a=rtcp-fb values for this payload type. */
  rtcpFb: string[];
  /** Packet duration in ms (0: not known). */
  ptime: number;
  /** Added or kept by the relay for transcoding (not the sender's own). */
  forTranscoding: boolean;
  /** Named by `codec-accept`/`consume`: preferred as the output of a transcoder. */
  accepted: boolean;
}

/** What the engine can decode and encode (or, for the two supplemental types, handle), by name. */
export interface CodecSupport {
  supports(encoding: string): boolean;
}

interface CodecDefault {
  clock: number;
  channels: number;
  ptime: number;
  fmtp?: string;
  rfc?: number;
}

/** Defaults of the codecs the relay knows (rtpengine's codec table for those). */
const DEFAULTS: ReadonlyMap<string, CodecDefault> = new Map([
  ['pcmu', { clock: 8000, channels: 1, ptime: 20, rfc: 0 }],
  ['pcma', { clock: 8000, channels: 1, ptime: 20, rfc: 8 }],
  ['g722', { clock: 8000, channels: 1, ptime: 20, rfc: 9 }],
  // G.729 Annex A without Annex B: the relay's encoder sends no silence frames.
  ['g729', { clock: 8000, channels: 1, ptime: 20, fmtp: 'annexb=no', rfc: 18 }],
  ['g729a', { clock: 8000, channels: 1, ptime: 20 }],
  ['gsm', { clock: 8000, channels: 1, ptime: 20, rfc: 3 }],
  ['speex', { clock: 16000, channels: 1, ptime: 20 }],
  ['opus', { clock: 48000, channels: 2, ptime: 20 }],
  ['telephone-event', { clock: 8000, channels: 1, ptime: 0, fmtp: '0-15' }],
  ['cn', { clock: 8000, channels: 1, ptime: 20, rfc: 13 }],
]);

/** RFC 3551's static payload types: encoding, clock, channels. */
const RFC_TYPES: ReadonlyMap<number, [string, number, number]> = new Map([
  [0, ['PCMU', 8000, 1]], [3, ['GSM', 8000, 1]], [4, ['G723', 8000, 1]], [5, ['DVI4', 8000, 1]], [6, ['DVI4', 16000, 1]],
  [7, ['LPC', 8000, 1]], [8, ['PCMA', 8000, 1]], [9, ['G722', 8000, 1]], [10, ['L16', 44100, 1]], [11, ['L16', 44100, 2]],
  [12, ['QCELP', 8000, 1]], [13, ['CN', 8000, 1]], [14, ['MPA', 90000, 1]], [15, ['G728', 8000, 1]], [16, ['DVI4', 11025, 1]],
  [17, ['DVI4', 22050, 1]], [18, ['G729', 8000, 1]], [25, ['CelB', 90000, 1]], [26, ['JPEG', 90000, 1]], [28, ['nv', 90000, 1]],
  [31, ['H261', 90000, 1]], [32, ['MPV', 90000, 1]], [33, ['MP2T', 90000, 1]], [34, ['H263', 90000, 1]],
]);

const lowered = new Map<string, string>();
const LOWERED_MAX = 256;
/**
 * A codec name in lower case. Names are compared many times per offer and SDPs repeat a few
 * of them, so each answer is kept (the table starts over when a stream of odd names fills it).
 */
export function lower(name: string): string {
  let l = lowered.get(name);
  if (l === undefined) {
    l = name.toLowerCase();
    if (lowered.size >= LOWERED_MAX) lowered.clear();
    lowered.set(name, l);
  }
  return l;
}
export const isSupplementalType = (p: { encoding: string }): boolean => lower(p.encoding) === 'telephone-event' || lower(p.encoding) === 'cn';
export const isEventType = (p: { encoding: string }): boolean => lower(p.encoding) === 'telephone-event';

/** `PCMU/8000`, `opus/48000/2`: the a=rtpmap text. */
export function withParams(p: PayloadType): string {
  return p.channels > 1 ? `${p.encoding}/${p.clock}/${p.channels}` : `${p.encoding}/${p.clock}`;
}

/**
 * Whether a payload type answers to a codec flag's name (lower case): `PCMU`, `PCMU/8000`,
 * `PCMU/8000/1`. Builds no strings for the plain name, which is what the common path asks.
 */
function answersTo(p: PayloadType, n: string): boolean {
  const e = lower(p.encoding);
  if (n === e) return true;
  if (n.length <= e.length || n.charCodeAt(e.length) !== 0x2f || !n.startsWith(e)) return false;
  const rest = n.slice(e.length + 1);
  return rest === String(p.clock) || rest === `${p.clock}/${p.channels}`;
}

/** Same payload type number, encoding, clock and channels (rtpengine ignores the format here). */
export const sameTypeNoFormat = (a: PayloadType, b: PayloadType): boolean =>
  a.pt === b.pt && a.clock === b.clock && a.channels === b.channels && lower(a.encoding) === lower(b.encoding);

/** As above and, for codecs whose format matters (not opus, telephone-event, CN), the same a=fmtp. */
export function sameType(a: PayloadType, b: PayloadType, support: CodecSupport): boolean {
  if (!sameTypeNoFormat(a, b)) return false;
  if (!support.supports(a.encoding)) return true;
  const n = lower(a.encoding);
  if (n === 'opus' || n === 'telephone-event' || n === 'cn') return true;
  return a.fmtp === b.fmtp;
}

/** Fills in a codec's defaults (clock, channels, ptime, a=fmtp, RFC payload type) as rtpengine does. */
function withDefaults(p: PayloadType, explicitFmtp: boolean): PayloadType {
  const d = DEFAULTS.get(lower(p.encoding));
  if (!d) return p;
  if (!p.clock) p.clock = d.clock;
  if (!p.channels) p.channels = d.channels;
  if (p.ptime <= 0) p.ptime = d.ptime;
  if (!explicitFmtp && d.fmtp) p.fmtp = d.fmtp;
  if (lower(p.encoding) === 'opus') p.clock = 48000;
  if (p.pt < 0 && d.rfc !== undefined) {
    const [, clock, channels] = RFC_TYPES.get(d.rfc)!;
    if (p.clock === clock && p.channels === channels) p.pt = d.rfc;
  }
  return p;
}

/** A payload type from a flag's specification `NAME[/CLOCK[/CHANNELS[/BITRATE[/PTIME[/FMTP]]]]]`, without a number yet (-1 unless RFC). */
export function payloadTypeOfSpec(spec: string): PayloadType | null {
  const [name = '', clock = '', channels = '', , ptime = '', fmtp] = spec.split('/');
  if (name === '') return null;
  const c = Number(clock) || 0;
  const p: PayloadType = {
    pt: -1, encoding: name, clock: c, channels: Number(channels) || (c ? 1 : 0), fmtp: fmtp ?? '', rtcpFb: [],
    ptime: Number(ptime) || 0, forTranscoding: false, accepted: false,
  };
  return withDefaults(p, fmtp !== undefined);
}

export const copyType = (p: PayloadType): PayloadType => ({
  pt: p.pt, encoding: p.encoding, clock: p.clock, channels: p.channels, fmtp: p.fmtp, rtcpFb: p.rtcpFb.length === 0 ? [] : [...p.rtcpFb],
  ptime: p.ptime, forTranscoding: p.forTranscoding, accepted: p.accepted,
});

/** The payload types of an RTP m= section in m= order (a=rtpmap, else RFC 3551, else unknown). */
export function payloadTypesOf(m: MediaDescription, ptime: number | undefined): PayloadType[] {
  // One pass over the section's lines: its a=fmtp (first per type) and a=rtcp-fb by type.
  let fmtps: Map<string, string> | null = null;
  let fbs: Map<string, string[]> | null = null;
  for (const l of m.lines) {
    if (l.startsWith('a=fmtp:')) {
      const sp = l.indexOf(' ', 7);
      if (sp < 0) continue;
      const f = l.slice(7, sp);
      fmtps ??= new Map();
      if (!fmtps.has(f)) fmtps.set(f, l.slice(sp + 1));
    } else if (l.startsWith('a=rtcp-fb:')) {
      const sp = l.indexOf(' ', 10);
      if (sp < 0) continue;
      const f = l.slice(10, sp);
      fbs ??= new Map();
      const list = fbs.get(f);
      if (list) list.push(l.slice(sp + 1));
      else fbs.set(f, [l.slice(sp + 1)]);
    }
  }
  const out: PayloadType[] = [];
  for (const f of m.formats) {
    const pt = Number(f);
    if (!/^\d+$/.test(f) || pt > 127) continue;
    const map = m.rtpmap.get(f);
    let encoding = '';
    let clock = 0;
    let channels = 0;
    const rfc = RFC_TYPES.get(pt);
    if (map) {
      const [e = '', c = '', ch = ''] = map.split('/');
      encoding = e;
      clock = Number(c) || 0;
      channels = Number(ch) || (clock ? 1 : 0);
    } else if (rfc) [encoding, clock, channels] = rfc;
    const p: PayloadType = {
      pt, encoding, clock, channels, fmtp: fmtps?.get(f) ?? '', rtcpFb: fbs?.get(f)?.slice() ?? [],
      ptime: ptime ?? (rfc ? 20 : 0), forTranscoding: false, accepted: false,
    };
    out.push(encoding === '' ? p : withDefaults(p, true));
  }
  return out;
}

export class CodecStore {
  list: PayloadType[] = [];
  /** Clock rates whose codecs a flag changed (telephone-event/CN follow them); all of them. */
  touched = new Set<number>();
  allTouched = false;
  stripAll = false;
  stripFull = false;
  /** rtpengine inserts new codecs before the first supplemental type appended. */
  private suppLink: PayloadType | null = null;
  /** Counts changes of the list (insertions, removals, starting over): equal counts, same list. */
  changes = 0;

  constructor(readonly support: CodecSupport, readonly isRtp = true) {}

  static of(support: CodecSupport, types: readonly PayloadType[]): CodecStore {
    return CodecStore.owning(support, types.map(copyType));
  }

  /** A list of payload types nobody else holds (fresh from an SDP), taken as they are. */
  static owning(support: CodecSupport, types: PayloadType[]): CodecStore {
    const s = new CodecStore(support);
    for (const p of types) s.addEnd(p);
    return s;
  }

  byPt(pt: number): PayloadType | undefined {
    return this.list.find((p) => p.pt === pt);
  }

  byName(name: string): PayloadType[] {
    const n = lower(name);
    return this.list.filter((p) => answersTo(p, n));
  }

  supported(p: PayloadType): boolean {
    return p.encoding !== '' && this.support.supports(p.encoding);
  }

  supplemental(p: PayloadType): boolean {
    return this.supported(p) && isSupplementalType(p);
  }

  touch(p: PayloadType): void {
    if (this.supplemental(p)) this.allTouched = true;
    else this.touched.add(p.clock);
  }

  isTouched(p: PayloadType): boolean {
    return this.allTouched || this.touched.has(p.clock);
  }

  private insert(p: PayloadType, before: PayloadType | null): void {
    const at = before ? this.list.indexOf(before) : -1;
    this.changes++;
    if (at < 0) this.list.push(p);
    else this.list.splice(at, 0, p);
    if (!this.suppLink && this.supplemental(p) && at < 0) this.suppLink = p;
  }

  /** Appends. */
  addEnd(p: PayloadType): void {
    if (this.isRtp) this.insert(p, null);
  }

  /** Appends, but before the supplemental types. */
  addOrder(p: PayloadType): void {
    if (this.isRtp) this.insert(p, this.suppLink);
  }

  remove(p: PayloadType): void {
    const at = this.list.indexOf(p);
    if (at < 0) return;
    if (this.suppLink === p) this.suppLink = this.list[at + 1] ?? null;
    this.changes++;
    this.list.splice(at, 1);
  }

  /** Starts over (rtpengine's move): the old list and its tracking are returned. */
  takeOver(): CodecStore {
    const old = new CodecStore(this.support, this.isRtp);
    old.list = this.list;
    old.touched = this.touched;
    old.allTouched = this.allTouched;
    old.stripAll = this.stripAll;
    old.stripFull = this.stripFull;
    old.suppLink = this.suppLink;
    this.list = [];
    this.changes++;
    this.touched = new Set();
    this.allTouched = false;
    this.stripAll = this.stripFull = false;
    this.suppLink = null;
    return old;
  }

  /** A free payload type number for a new codec: its own (RFC) one, else from 96; also free in `extra`. */
  unusedPt(p: PayloadType, extra?: CodecStore): number {
    let num = p.pt < 0 ? 96 : p.pt;
    for (;;) {
      const match = this.byPt(num) ?? extra?.byPt(num);
      if (!match) return num;
      if (sameTypeNoFormat({ ...p, pt: num }, match)) return num;
      num++;
      if (num < 96) num = 96;
      else if (num >= 128) return -1;
    }
  }
}

/** Rebuilds `dst` from `src`, keeping what the relay had decided about payload types it keeps. */
/** (`codec-set` only changes encoder options, none of which show in SDP.) */
export function populate(dst: CodecStore, src: CodecStore, answerOnly: boolean): void {
  const orig = dst.takeOver();
  for (const s of src.list) {
    const o = orig.byPt(s.pt);
    if (answerOnly && !o) continue;
    const p = copyType(s);
    if (o) {
      p.ptime = o.ptime;
      p.forTranscoding = o.forTranscoding;
      p.accepted = o.accepted;
      if (p.forTranscoding) dst.touch(p);
    }
    dst.addEnd(p);
  }
}

/** `reuse-codecs`: keeps the list as negotiated, adding new codecs at the end and dropping gone ones. */
export function populateReuse(dst: CodecStore, src: CodecStore, answerOnly: boolean): void {
  for (const s of src.list) if (!dst.byPt(s.pt) && !answerOnly) dst.addEnd(copyType(s));
  for (const p of [...dst.list]) if (!src.byPt(p.pt)) dst.remove(p);
}

export function strip(cs: CodecStore, names: readonly string[], except: readonly string[]): void {
  const exceptSet = new Set(except.map(lower));
  for (const name of names) {
    const n = lower(name);
    if (n === 'all' || n === 'full') {
      if (n === 'all') cs.stripAll = true;
      else cs.stripFull = true;
      for (const p of [...cs.list]) {
        if (exceptSet.size > 0 && [...exceptSet].some((x) => answersTo(p, x))) continue;
        cs.touch(p);
        cs.remove(p);
      }
      continue;
    }
    for (const p of cs.byName(name)) {
      cs.touch(p);
      cs.remove(p);
    }
  }
}

/** Puts back codecs of the sender's SDP (`orig`) that are not in the list, in the flag's order. */
function readd(cs: CodecStore, name: string, orig: CodecStore): void {
  for (const o of orig.byName(name)) {
    if (cs.byPt(o.pt)) continue;
    cs.touch(o);
    cs.addOrder(copyType(o));
  }
}

export function offer(cs: CodecStore, names: readonly string[], orig: CodecStore): void {
  for (const name of names) {
    if (cs.byName(name).length > 0) continue;
    readd(cs, name, orig);
  }
}

/** A codec the relay adds (transcoding), numbered clear of `cs` and `extra`; null when not supported. */
function newType(cs: CodecStore, spec: string, extra?: CodecStore): PayloadType | null {
  const p = payloadTypeOfSpec(spec);
  if (!p || !cs.support.supports(p.encoding)) return null;
  p.pt = cs.unusedPt(p, extra);
  if (p.pt < 0) return null;
  return p;
}

/** `transcode`: like `offer`, and codecs the sender does not have are added for transcoding. */
export function transcode(cs: CodecStore, names: readonly string[], orig: CodecStore): void {
  for (const name of names) {
    if (cs.byName(name).length > 0) continue;
    if (orig.byName(name).length === 0 || cs.stripFull) {
      const p = newType(cs, name, orig);
      if (!p) continue;
      p.forTranscoding = true;
      cs.touch(p);
      cs.addOrder(p);
      continue;
    }
    readd(cs, name, orig);
  }
}

export function checkEmpty(dst: CodecStore, src: CodecStore): void {
  if (dst.list.length === 0) populate(dst, src, false);
}

/** `codec-accept` (and `consume`, with `orig`): marks codecs as the preferred output of a transcoder. */
export function accept(cs: CodecStore, names: readonly string[], orig: CodecStore | null): void {
  for (const name of names) {
    const n = lower(name);
    let pts = n === 'all' || n === 'full' ? [...cs.list] : cs.byName(name);
    if (pts.length === 0) {
      if (!orig || orig.byName(name).length === 0) continue;
      readd(cs, name, orig);
      pts = cs.byName(name);
    }
    for (const p of pts) {
      p.forTranscoding = true;
      p.accepted = true;
      cs.touch(p);
    }
  }
}

/** `mask`: only marks the clock rates as changed. */
export function track(cs: CodecStore, names: readonly string[]): void {
  for (const name of names) {
    const n = lower(name);
    if (n === 'all' || n === 'full') {
      cs.allTouched = true;
      continue;
    }
    for (const p of cs.byName(name)) cs.touch(p);
  }
}

/**
 * telephone-event and CN follow the audio clock rates: for each clock rate whose codecs a flag
 * changed, one is added where the list has audio at that rate and none, and removed where it
 * has no audio at that rate any more.
 */
export function trackerUpdate(cs: CodecStore): void {
  // Only rates a flag changed gain or lose one: with none, nothing to look at.
  if (!cs.allTouched && cs.touched.size === 0) return;
  const clocks = new Set<number>();
  /** Per supplemental encoding, in order of first appearance: its types by clock rate. */
  const supp: { key: string; byClock: Map<number, PayloadType[]> }[] = [];
  for (const p of cs.list) {
    if (!cs.supplemental(p)) {
      clocks.add(p.clock);
      continue;
    }
    const key = lower(p.encoding);
    let group = supp.find((g) => g.key === key);
    if (!group) supp.push((group = { key, byClock: new Map() }));
    const l = group.byClock.get(p.clock);
    if (l) l.push(p);
    else group.byClock.set(p.clock, [p]);
  }
  const rates = [...clocks].sort((a, b) => a - b);
  for (const { byClock } of supp) {
    const left = new Map(byClock);
    const encoding = byClock.values().next().value![0]!.encoding;
    for (const rate of rates) {
      if (left.has(rate)) {
        left.delete(rate);
        continue;
      }
      if (!cs.allTouched && !cs.touched.has(rate)) continue;
      const p = newType(cs, `${encoding}/${rate}`);
      if (!p) continue;
      p.forTranscoding = true;
      cs.addOrder(p);
    }
    for (const [rate, l] of left) {
      if (!cs.allTouched && !cs.touched.has(rate)) continue;
      for (const p of l) cs.remove(p);
    }
  }
}

/** A codec list as a call's record keeps it (plain data). */
export interface CodecListRecord {
  list: PayloadType[];
  touched: number[];
  allTouched: boolean;
}

export const codecListRecord = (cs: CodecStore): CodecListRecord => ({ list: cs.list.map(copyType), touched: [...cs.touched], allTouched: cs.allTouched });

const MAX_TYPES = 128;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, lo: number, hi: number): v is number => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

function typeOf(v: unknown): PayloadType | null {
  if (!isObj(v) || !isInt(v['pt'], 0, 127) || !isText(v['encoding'], 64) || !isInt(v['clock'], 0, 1_000_000) || !isInt(v['channels'], 0, 16)) return null;
  if (!isText(v['fmtp'], 1024) || !isInt(v['ptime'], 0, 1000) || !Array.isArray(v['rtcpFb'])) return null;
  const rtcpFb = (v['rtcpFb'] as unknown[]).slice(0, 16);
  if (!rtcpFb.every((x) => isText(x, 256))) return null;
  return {
    pt: v['pt'], encoding: v['encoding'], clock: v['clock'], channels: v['channels'], fmtp: v['fmtp'], rtcpFb: rtcpFb as string[],
    ptime: v['ptime'], forTranscoding: v['forTranscoding'] === true, accepted: v['accepted'] === true,
  };
}

/** A codec list read from a record (maybe another relay's, maybe hostile): checked and bounded, else null. */
export function codecStoreOf(v: unknown, support: CodecSupport): CodecStore | null {
  if (!isObj(v) || !Array.isArray(v['list']) || !Array.isArray(v['touched'])) return null;
  const list = (v['list'] as unknown[]).slice(0, MAX_TYPES).map(typeOf);
  if (list.some((p) => p === null)) return null;
  const cs = CodecStore.of(support, list as PayloadType[]);
  for (const c of (v['touched'] as unknown[]).slice(0, MAX_TYPES)) if (isInt(c, 0, 1_000_000)) cs.touched.add(c);
  cs.allTouched = v['allTouched'] === true;
  return cs;
}
