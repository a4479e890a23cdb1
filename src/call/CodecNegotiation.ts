import { randomInt } from 'node:crypto';
import { canTranscode, isComfortNoise } from '../media/engine/CodecCatalog.js';
import { opusAvailable } from '../media/codecs/Opus.js';
import type { PayloadFormat, TranscodeSettings } from '../media/engine/TranscodeSettings.js';
import type { CodecOptions } from '../sdp/CodecOptions.js';
import {
  accept, checkEmpty, CodecStore, copyType, isEventType, lower, offer, populate, populateReuse, sameType, sameTypeNoFormat,
  strip, track, trackerUpdate, transcode, type CodecSupport, type PayloadType,
} from '../sdp/CodecStore.js';

/**
 * Offer/answer codec negotiation as rtpengine 10.5 does it. Each side of a media has a codec
 * list: what that party may send to the relay, which is also what its SDP from the relay
 * lists. An offer derives both lists from the offerer's codecs and the codec flags; an answer
 * derives the offerer's list from what the answerer kept, through the decision, per payload
 * type, of what each side's packets become for the other (passed on, or transcoded to which
 * codec). Those decisions give each direction's transcoding settings.
 */

/** Answers per encoding name as written, kept while the table is small (SDPs repeat a few names). */
const supportByName = new Map<string, boolean>();
const SUPPORT_TABLE_MAX = 256;

function relaySupports(encoding: string): boolean {
  const n = encoding.toLowerCase();
  if (n === 'telephone-event' || n === 'cn') return true;
  if (n === 'opus') return opusAvailable();
  return canTranscode({ encoding, clock: 8000 });
}

/** The codecs the relay decodes and encodes, plus telephone-event and CN, which it handles. */
export const RELAY_CODECS: CodecSupport = {
  supports(encoding: string): boolean {
    let known = supportByName.get(encoding);
    if (known === undefined) {
      known = relaySupports(encoding);
      if (supportByName.size >= SUPPORT_TABLE_MAX) supportByName.clear();
      supportByName.set(encoding, known);
    }
    return known;
  },
};

/** What packets of one payload type become for the other side. */
interface Handler {
  /** null: passed on as they are. */
  dest: PayloadType | null;
  /** The other side's telephone-event and CN types that go with it. */
  dtmf: PayloadType | null;
  cn: PayloadType | null;
}

interface Handlers {
  byPt: Map<number, Handler>;
  transcoding: boolean;
}

/** The first telephone-event and CN type per clock rate of a list (lists are short: arrays, scanned). */
interface Supplementals {
  dtmf: PayloadType[];
  cn: PayloadType[];
}

function supplementals(cs: CodecStore): Supplementals {
  const out: Supplementals = { dtmf: [], cn: [] };
  for (const p of cs.list) {
    if (!cs.supplemental(p)) continue;
    const l = isEventType(p) ? out.dtmf : out.cn;
    if (!l.some((x) => x.clock === p.clock)) l.push(p);
  }
  return out;
}

const atClock = (l: readonly PayloadType[], clock: number): PayloadType | null => {
  for (const p of l) if (p.clock === clock) return p;
  return null;
};

/** The codec a transcoder sends when it has the choice: the first `accept`ed, else the first supported audio codec. */
function preferredOutput(cs: CodecStore): PayloadType | null {
  let first: PayloadType | null = null;
  for (const p of cs.list) {
    if (!cs.supported(p) || cs.supplemental(p)) continue;
    if (p.accepted) return p;
    first ??= p;
  }
  return first;
}

/** The first type of a list with a codec's name (any case), clock rate and channels. */
function sameCodec(cs: CodecStore, p: PayloadType): PayloadType | null {
  // A name with a slash (from a record) answers as a codec flag's would.
  if (p.encoding.includes('/')) return cs.byName(p.encoding).find((s) => s.clock === p.clock && s.channels === p.channels) ?? null;
  const n = lower(p.encoding);
  for (const s of cs.list) if (s.clock === p.clock && s.channels === p.channels && lower(s.encoding) === n) return s;
  return null;
}

/**
 * The decision per payload type for packets of `receiver`'s party towards `sink`'s.
 * `firstPass`: with the request's flags (false: the second look at the offerer's side during
 * an answer, where a telephone-event/CN the answerer refused is refused towards it too).
 */
function updateHandlers(receiver: CodecStore, sink: CodecStore, firstPass: boolean, ptime: PtimeOf): Handlers {
  const recvPtime = (p: PayloadType): number => ptime.of(receiver) || p.ptime;
  const sinkPtime = (p: PayloadType): number => ptime.of(sink) || p.ptime || (sink.supported(p) && !sink.supplemental(p) ? 20 : 0);
  const suppSinks = supplementals(sink);
  const suppRecvs = supplementals(receiver);
  const pref = preferredOutput(sink);
  const byPt = new Map<number, Handler>();
  let transcoding = false;
  for (const pt of receiver.list) {
    if (!receiver.supported(pt)) {
      byPt.set(pt.pt, { dest: null, dtmf: null, cn: null });
      continue;
    }
    const recvDtmf = atClock(suppRecvs.dtmf, pt.clock);
    const recvCn = atClock(suppRecvs.cn, pt.clock);
    const supp = receiver.supplemental(pt);
    let sinkPt: PayloadType | null = sink.byPt(pt.pt) ?? null;
    if (sinkPt && !sameType(pt, sinkPt, receiver.support)) sinkPt = null;
    sinkPt ??= sameCodec(sink, pt);
    if (sinkPt && !supp && pref?.forTranscoding) sinkPt = pref;
    sinkPt ??= pref;
    if (!sinkPt) {
      byPt.set(pt.pt, { dest: null, dtmf: recvDtmf, cn: recvCn });
      continue;
    }
    let sinkDtmf = atClock(suppSinks.dtmf, sinkPt.clock);
    let sinkCn = atClock(suppSinks.cn, sinkPt.clock);
    if (!firstPass) {
      if (sinkDtmf && !recvDtmf && !sinkDtmf.forTranscoding) sinkDtmf = null;
      if (sinkCn && !recvCn && !sinkCn.forTranscoding) sinkCn = null;
    }
    const pcmDtmfDetect = !supp && !recvDtmf && sinkDtmf !== null && sinkDtmf.forTranscoding;
    let convert = !sameTypeNoFormat(pt, sinkPt);
    if (!convert && !supp) {
      convert =
        (ptime.override && sinkPtime(sinkPt) > 0 && recvPtime(pt) > 0 && sinkPtime(sinkPt) !== recvPtime(pt)) ||
        pcmDtmfDetect ||
        (recvDtmf !== null && recvDtmf.forTranscoding && !sinkDtmf) ||
        (!recvCn && sinkCn !== null && sinkCn.forTranscoding) ||
        (recvCn !== null && recvCn.forTranscoding && !sinkCn);
    }
    if (!convert) {
      byPt.set(pt.pt, { dest: null, dtmf: sinkDtmf, cn: sinkCn });
      continue;
    }
    transcoding = true;
    byPt.set(pt.pt, { dest: sinkPt, dtmf: sinkDtmf, cn: sinkCn });
  }
  if (transcoding) {
    // What the relay cannot decode is not offered once it transcodes.
    for (const p of [...receiver.list]) {
      if (receiver.supported(p)) continue;
      receiver.touch(p);
      receiver.remove(p);
    }
  }
  return { byPt, transcoding };
}

/** The offerer's list from the answerer's: each answered codec becomes what the relay sends for it. */
function answerList(dst: CodecStore, src: CodecStore, handlers: Handlers, singleCodec: boolean): void {
  const orig = dst.takeOver();
  let count = 0;
  const extras: PayloadType[] = [];
  for (const pt of src.list) {
    const add = !(singleCodec && count >= 1);
    const h = handlers.byPt.get(pt.pt);
    const supp = src.supplemental(pt);
    if (!h) {
      if (pt.forTranscoding || !add) continue;
      if (!supp) count++;
      dst.addEnd(copyType(pt));
      continue;
    }
    if (supp && (pt.forTranscoding || dst.isTouched(pt) || src.isTouched(pt) || orig.isTouched(pt))) continue;
    if (!add && !supp) continue;
    const out = h.dest ?? pt;
    if (!dst.byPt(out.pt)) {
      dst.addEnd(copyType(out));
      if (!supp) count++;
    }
    for (const x of [h.cn, h.dtmf]) {
      const o = x ? orig.byPt(x.pt) : undefined;
      if (o) extras.push(copyType(o));
    }
  }
  for (const p of extras) if (!dst.byPt(p.pt)) dst.addEnd(p);
}

export interface NegotiationFlags {
  codec: CodecOptions;
  singleCodec: boolean;
  reuseCodecs: boolean;
  /** The a=ptime of the SDP sender's and receiver's sides (rtpengine's per-media ptime). */
  senderPtime: number | undefined;
  receiverPtime: number | undefined;
  /** A `ptime` flag set them: a different packet size on the two sides means repacketising. */
  ptimeOverride: boolean;
}

/** Each list's side's ptime (0: none), for the packet size checks. */
interface PtimeOf {
  of(cs: CodecStore): number;
  override: boolean;
}

const ptimes = (f: NegotiationFlags, sender: CodecStore, receiver: CodecStore): PtimeOf => ({
  of: (cs) => (cs === sender ? f.senderPtime : cs === receiver ? f.receiverPtime : undefined) ?? 0,
  override: f.ptimeOverride,
});

/** Both lists of a media after an offer or answer, and what each side's packets need. */
export interface Negotiated {
  /** The SDP sender's list. */
  sender: CodecStore;
  /** The SDP receiver's list: the codecs of the SDP it gets. */
  receiver: CodecStore;
  /** Conversion of the receiver's packets for the sender, of the sender's for the receiver (null: none). */
  fromReceiver: Handlers;
  fromSender: Handlers | null;
}

const clone = (cs: CodecStore | null): CodecStore => {
  const c = new CodecStore(RELAY_CODECS);
  if (cs) {
    c.list = cs.list.map(copyType);
    c.touched = new Set(cs.touched);
    c.allTouched = cs.allTouched;
  }
  return c;
};

/**
 * A list in place as the start of a list that is rebuilt from it (populate, answerList): they
 * only read the old one, so it is shared, not copied.
 */
const rebuiltFrom = (cs: CodecStore | null): CodecStore => {
  const c = new CodecStore(RELAY_CODECS);
  if (cs) {
    c.list = cs.list;
    c.touched = cs.touched;
    c.allTouched = cs.allTouched;
  }
  return c;
};

/** The list in place to start from: copied where `reuse-codecs` edits it, shared where it is rebuilt. */
const startFrom = (cs: CodecStore | null, reuse: boolean): CodecStore => (reuse && cs ? clone(cs) : rebuiltFrom(cs));

/**
 * Decisions that are looked at again after the tracker may have changed the lists: the same
 * lists (no change since) give the same decisions, so they are taken as they are.
 */
class Decisions {
  private last: { receiver: CodecStore; sink: CodecStore; firstPass: boolean; changes: number; handlers: Handlers } | null = null;

  constructor(private readonly ptime: PtimeOf) {}

  update(receiver: CodecStore, sink: CodecStore, firstPass: boolean): Handlers {
    const l = this.last;
    if (l && l.receiver === receiver && l.sink === sink && l.firstPass === firstPass && l.changes === receiver.changes + sink.changes) return l.handlers;
    const handlers = updateHandlers(receiver, sink, firstPass, this.ptime);
    this.last = { receiver, sink, firstPass, changes: receiver.changes + sink.changes, handlers };
    return handlers;
  }
}

/**
 * An offer: `sent` is the offerer's SDP; `sender`/`receiver` the lists in place (null: new).
 * Nothing given is changed.
 */
export function negotiateOffer(sent: CodecStore, senderPrev: CodecStore | null, receiverPrev: CodecStore | null, f: NegotiationFlags): Negotiated {
  const c = f.codec;
  const sender = startFrom(senderPrev, f.reuseCodecs);
  if (f.reuseCodecs && senderPrev) populateReuse(sender, sent, false);
  else populate(sender, sent, false);
  strip(sender, c.strip, c.except);
  offer(sender, c.offer, sent);
  if (!sender.stripFull) offer(sender, c.transcode, sent);
  checkEmpty(sender, sent);
  accept(sender, c.accept, null);
  accept(sender, c.consume, sent);
  track(sender, c.mask);
  const receiver = startFrom(receiverPrev, f.reuseCodecs);
  if (f.reuseCodecs && receiverPrev) populateReuse(receiver, sent, false);
  else populate(receiver, sent, false);
  strip(receiver, c.strip, c.except);
  strip(receiver, c.consume, c.except);
  strip(receiver, c.mask, c.except);
  offer(receiver, c.offer, sent);
  transcode(receiver, c.transcode, sent);
  checkEmpty(receiver, sent);
  const decisions = new Decisions(ptimes(f, sender, receiver));
  trackerUpdate(receiver);
  decisions.update(receiver, sender, true);
  trackerUpdate(receiver);
  const fromReceiver = decisions.update(receiver, sender, true);
  return { sender, receiver, fromReceiver, fromSender: null };
}

/**
 * An answer: `sent` is the answerer's SDP, `senderPrev` the answerer's list from the offer,
 * `receiverPrev` the offerer's. `rejected`: the section is refused (port 0), so the answer's
 * codecs are taken as they are.
 */
export function negotiateAnswer(sent: CodecStore, senderPrev: CodecStore | null, receiverPrev: CodecStore | null, rejected: boolean, f: NegotiationFlags): Negotiated {
  const c = f.codec;
  const sender = startFrom(senderPrev, f.reuseCodecs);
  const answerOnly = !rejected && senderPrev !== null;
  if (f.reuseCodecs && senderPrev) populateReuse(sender, sent, answerOnly);
  else populate(sender, sent, answerOnly);
  strip(sender, c.strip, c.except);
  offer(sender, c.offer, sent);
  checkEmpty(sender, sent);
  // Rebuilt by answerList below: read until then.
  const receiver = rebuiltFrom(receiverPrev);
  const decisions = new Decisions(ptimes(f, sender, receiver));
  const second = decisions.update(sender, receiver, false);
  answerList(receiver, sender, second, f.singleCodec);
  decisions.update(receiver, sender, true);
  trackerUpdate(receiver);
  trackerUpdate(sender);
  const fromReceiver = decisions.update(receiver, sender, true);
  const fromSender = decisions.update(sender, receiver, false);
  return { sender, receiver, fromReceiver, fromSender };
}

const formatOf = (p: PayloadType): PayloadFormat => ({ pt: p.pt, encoding: p.encoding, clock: p.clock, channels: p.channels, ...(p.fmtp ? { fmtp: p.fmtp } : {}) });

/**
 * The pipeline for one direction, or null when everything passes: it decodes what the sender
 * may send and encodes the codec the decisions chose, with the other side's telephone-event
 * and CN at that codec's clock rate. `previous` keeps the SSRC of the one in place.
 */
export function transcodeSettings(h: Handlers | null, from: CodecStore, ptime: number | undefined, previous: TranscodeSettings | null, silenceDetect = 0): TranscodeSettings | null {
  const main = mainConversion(h, from);
  if (!main?.dest) return null;
  const extras = [main.dtmf, main.cn].filter((x): x is PayloadType => x !== null);
  const s: TranscodeSettings = {
    input: from.list.filter((p) => from.supported(p)).map(formatOf),
    output: formatOf(main.dest),
    outputExtras: extras.map(formatOf),
    ptime: ptime ?? 20,
    ssrc: previous?.ssrc ?? randomInt(1, 0xffffffff),
  };
  const silence = silenceThreshold(silenceDetect);
  if (main.cn && !from.list.some(isComfortNoise) && silence > 0) s.silence = silence;
  return s;
}

/** rtpengine's 16-bit silence threshold for a silence-detect percentage: the 32-bit one's top half. */
function silenceThreshold(percent: number): number {
  return Math.min(32767, Math.floor(Math.floor((percent / 100) * 0xffffffff) / 65536));
}

/** The conversion of a side's first codec that is converted; undefined when its packets pass unchanged. */
function mainConversion(h: Handlers | null, from: CodecStore): Handler | undefined {
  if (!h?.transcoding) return undefined;
  return from.list.map((p) => h.byPt.get(p.pt)).find((x) => x?.dest && !from.supplemental(x.dest));
}

/** Whether `transcodeSettings` gives this direction a pipeline. */
export const converts = (h: Handlers | null, from: CodecStore): boolean => mainConversion(h, from) !== undefined;

/** The a=rtpmap, a=fmtp and a=rtcp-fb lines of a list, per payload type. */
export function codecLinesOf(cs: CodecStore): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of cs.list) {
    const lines: string[] = [];
    if (p.encoding !== '') lines.push(`a=rtpmap:${p.pt} ${p.channels > 1 ? `${p.encoding}/${p.clock}/${p.channels}` : `${p.encoding}/${p.clock}`}`);
    if (p.fmtp) lines.push(`a=fmtp:${p.pt} ${p.fmtp}`);
    for (const fb of p.rtcpFb) lines.push(`a=rtcp-fb:${p.pt} ${fb}`);
    out.set(String(p.pt), lines);
  }
  return out;
}


