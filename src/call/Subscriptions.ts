import { randomBytes, randomInt } from 'node:crypto';
import type { TranscodeSettings } from '../media/engine/TranscodeSettings.js';
import type { LocalAddress } from '../media/LocalInterface.js';
import type { Services } from '../Services.js';
import { codecOf, isSupplemental, ptimeOf, type Codec } from '../sdp/codecs.js';
import { isSrtpProtocol } from '../sdp/crypto.js';
import { generateSdp, relayOrigin, relaySessionName, type GeneratedMedia } from '../sdp/generate.js';
import { mediaConnection, parseSdp } from '../sdp/SessionDescription.js';
import { dropSubscriptions, type Call } from './Call.js';
import { CallGoneError, SubscriptionError, UnknownToTagError } from './errors.js';
import { Media } from './Media.js';
import { allocatePairs, configureLegs, linkSubscriptions, setPartyEndpoints } from './MediaSetup.js';
import type { Monologue } from './Monologue.js';
import { selectParties, type PartySelector } from './PartySelector.js';
import { afterSignalling } from './Signalling.js';
import type { Stream } from './Stream.js';
import { format, sameCodec, transcodable } from './Transcoding.js';
import { admitConversions } from './TranscodeLimit.js';

/**
 * Media forking (pub/sub), as rtpengine 10.5 does it: a subscriber is a party of its own
 * (its tag, its ports, its SDP) that receives a copy of what one or more parties send.
 * `subscribe request` creates it and offers it the sources' media sendonly, `subscribe
 * answer` takes its SDP and starts the copies, `unsubscribe` stops them. The copies are made
 * by the sources' legs (MediaLeg.fanOutTo), so each subscriber gets every packet whatever
 * the others do.
 */

/** Since start-up: subscribers that got an answer through (copies started), and unsubscribes. */
export const subscriptionCounters = { answered: 0, unsubscribed: 0 };

/** Subscribers receiving copies now (answered, not unsubscribed), over the given calls. */
export function activeSubscribers(calls: Iterable<Call>): number {
  let n = 0;
  for (const call of calls) for (const ml of call.monologues.values()) if (ml.subscriptions.length > 0 && ml.sdpSeen) n++;
  return n;
}

export interface SubscribeRequestOptions {
  selector: PartySelector;
  /** The subscriber's tag; a new one is made when absent. */
  toTag?: string;
  /** `set-label` / `to-label`: the subscriber's label. */
  setLabel?: string;
}

export interface SubscribeRequestResult {
  sdp: string;
  fromTags: string[];
  toTag: string;
}

export interface SubscribeAnswerOptions {
  toTag: string;
  sdp: string;
  /** The subscriber may answer with a subset of the codecs, or another one the relay converts to. */
  allowTranscoding: boolean;
}

/**
 * The codecs a subscriber is offered for a source's media: what the source's dialogue settled
 * on (its SDP's codecs its peer answered), else all it offered. A dialogue that converts keeps
 * the source's own first codec.
 */
function offeredCodecs(source: Monologue, m: Media): Codec[] {
  const sent = m.sent.filter((c) => c.encoding !== '');
  const peerMedia = source.peer?.sdpSeen ? source.peer.medias[m.index - 1] : undefined;
  if (!peerMedia || peerMedia.formats.length === 0) return sent;
  const answered = sent.filter((c) => peerMedia.formats.includes(c.pt));
  if (answered.some((c) => !isSupplemental(c))) return answered;
  const own = sent.find((c) => !isSupplemental(c));
  return own ? [own, ...sent.filter((c) => isSupplemental(c) && c.clock === own.clock)] : sent;
}

/** One m= line of the subscriber: the source media it copies, or a rejected line. */
interface PlannedMedia {
  party: Monologue;
  media: Media;
  codecs: Codec[];
  local: LocalAddress | null;
}

const hexTag = (): string => randomBytes(32).toString('hex');

/** The protocol a subscriber is offered: the source's, plain (the copies are not encrypted). */
const plainProtocol = (p: string): string => (isSrtpProtocol(p) ? (p.endsWith('F') ? 'RTP/AVPF' : 'RTP/AVP') : p);

/** `subscribe request`: makes (or remakes) the subscriber and returns its sendonly offer. */
export function subscribeRequest(s: Services, call: Call, opts: SubscribeRequestOptions): Promise<SubscribeRequestResult> {
  return call.serialize(async () => {
    if (call.destroyed) throw new CallGoneError();
    const sources = selectParties(call, opts.selector);
    const toTag = opts.toTag ?? hexTag();
    const existing = call.findByTag(toTag);
    // A party of a dialogue (or a source itself) cannot become a subscriber.
    if (existing && (existing.peer !== null || existing.subscribers.length > 0 || sources.includes(existing))) {
      throw new SubscriptionError('request', 'the to-tag names a party of a dialogue');
    }
    const interfaceName = existing?.interfaceName ?? sources[0]!.interfaceName;
    const planned: PlannedMedia[] = [];
    for (const party of sources) {
      for (const m of party.medias) {
        const relayed = m.rtp !== null && !m.rejected && !m.passthrough;
        const local = relayed ? s.interfaces.pick(interfaceName, m.rtp!.local.family) ?? null : null;
        planned.push({ party, media: m, codecs: offeredCodecs(party, m), local });
      }
    }
    if (planned.length === 0) throw new SubscriptionError('request', 'the parties have no media');
    const pairs = await allocatePairs(s.media, call, planned.map((p) => p.local));
    const now = Date.now();
    const ml = existing ?? call.addMonologue(toTag, now, interfaceName);
    dropSubscriptions(ml);
    // A repeated request starts over: the subscriber gets copies again after its next answer.
    ml.sdpSeen = false;
    if (opts.setLabel !== undefined) ml.label = opts.setLabel;
    ml.subscriptions = [...sources];
    for (const src of sources) if (!src.subscribers.includes(ml)) src.subscribers.push(ml);
    ml.medias = planned.map((p, i) => subscriberMedia(p, i, pairs[i]));
    ml.family = ml.medias.find((m) => m.rtp)?.rtp!.local.family ?? ml.family;
    configureLegs(ml, call.legSettings ?? defaultSettings(s), s.hooks.legObserver(call), s.hooks.tap(call));
    // Copies to the ports it had before (a repeated request) stop; new ones start with its answer.
    linkSubscriptions(call);
    call.lastSignal = now;
    await afterSignalling(s, call);
    return { sdp: offerSdp(sources, ml, planned), fromTags: sources.map((x) => x.tag), toTag };
  });
}

const defaultSettings = (s: Services) => ({ learning: s.config.endpointLearning, strictSource: false, mediaHandover: false, asymmetric: false });


function subscriberMedia(p: PlannedMedia, i: number, pair: Stream[] | undefined): Media {
  const m = new Media(i + 1);
  m.type = p.media.type;
  m.protocol = plainProtocol(p.media.protocol);
  m.sent = p.codecs;
  m.formats = p.codecs.map((c) => c.pt);
  m.codecs = p.codecs.map((c) => `${c.encoding}/${c.clock}${c.channels > 1 ? `/${c.channels}` : ''}`);
  m.ptime = p.media.ptime;
  // The relay only sends to a subscriber (rtpengine reports such media as "send").
  m.direction = 'sendonly';
  if (pair) [m.rtp, m.rtcp] = pair as [Stream, Stream];
  else m.rejected = true;
  m.subscription = { party: p.party, media: p.media, transcoding: null };
  return m;
}

/** The subscriber's offer: one source's o= and s= when it mirrors one party, else the relay's own. */
function offerSdp(sources: Monologue[], ml: Monologue, planned: PlannedMedia[]): string {
  const first = ml.medias.find((m) => m.rtp)?.rtp!.local;
  const mirror = sources.length === 1 ? sources[0]!.ownOrigin : undefined;
  const medias: GeneratedMedia[] = ml.medias.map((m, i) => ({
    type: m.type,
    protocol: m.protocol,
    port: m.rtp?.localPort ?? 0,
    rtcpPort: m.rtcp?.localPort ?? 0,
    codecs: planned[i]!.codecs,
    direction: planned[i]!.media.sending ? 'sendonly' : 'inactive',
    ptime: m.ptime,
  }));
  return generateSdp({
    origin: mirror?.origin ?? relayOrigin(first?.family ?? 4, first?.advertised ?? '0.0.0.0'),
    sessionName: mirror?.sessionName ?? relaySessionName(),
    address: first?.advertised ?? '0.0.0.0',
    family: first?.family ?? 4,
    sessionConnection: mirror?.sessionConnection ?? false,
    medias,
  });
}

/** `subscribe answer`: the subscriber's SDP; copies start to the endpoint it gives. */
export function subscribeAnswer(s: Services, call: Call, opts: SubscribeAnswerOptions): Promise<void> {
  return call.serialize(async () => {
    if (call.destroyed) throw new CallGoneError();
    const ml = call.findByTag(opts.toTag);
    if (!ml) throw new UnknownToTagError();
    const sd = parseSdp(opts.sdp);
    if (ml.subscriptions.length === 0) throw new SubscriptionError('answer', 'the tag subscribes to nothing');
    if (sd.medias.length > ml.medias.length) throw new SubscriptionError('answer', 'more media sections than offered');
    // Checked for every section before anything changes.
    const plans = sd.medias.map((md, i) => {
      const m = ml.medias[i]!;
      if (md.port === 0 || m.rejected || !m.rtp) return null;
      const answer = md.formats.map((pt) => codecOf(md, pt)).filter((c): c is Codec => c !== null);
      const transcoding = answerTranscoding(m, answer, ptimeOf(md), opts.allowTranscoding);
      return { md, address: mediaConnection(sd, md)?.address ?? null, transcoding };
    });
    // A subscriber's converted copies count towards max-transcoded-media like any converted stream.
    admitConversions(s, call, plans.reduce((n, p, i) => n + (p?.transcoding ? 1 : 0) - (ml.medias[i]!.subscription?.transcoding ? 1 : 0), 0));
    const now = Date.now();
    plans.forEach((p, i) => {
      const m = ml.medias[i]!;
      if (!p) {
        m.sdpAddress = null;
        return;
      }
      m.sdpAddress = p.address;
      m.sdpRtpPort = p.md.port;
      m.sdpRtcpPort = p.md.rtcpPort ?? p.md.port + 1;
      m.subscription = { ...m.subscription!, transcoding: p.transcoding };
      setPartyEndpoints(m, now);
    });
    ml.sdpSeen = true;
    call.lastSignal = now;
    linkSubscriptions(call);
    subscriptionCounters.answered++;
    await afterSignalling(s, call);
  });
}

/**
 * Whether the copies of one media need converting for the subscriber's answer. By default the
 * answer must take every codec offered, with its payload type (rtpengine's rule); with
 * `allow transcoding` one codec is enough, and one the source does not send is converted to.
 */
function answerTranscoding(m: Media, answer: Codec[], ptime: number | undefined, allow: boolean): TranscodeSettings | null {
  const previous = m.subscription!.transcoding;
  if (!allow) {
    const full = m.sent.every((o) => answer.some((a) => a.pt === o.pt && sameCodec(a, o)));
    if (!full) throw new SubscriptionError('answer', 'the answer does not take every codec offered');
    return null;
  }
  const chosen = answer.find((c) => !isSupplemental(c) && c.encoding !== '');
  if (!chosen) throw new SubscriptionError('answer', 'the answer has no codec');
  const source = m.subscription!.media.sent.filter((c) => c.encoding !== '');
  if (source.some((c) => !isSupplemental(c) && sameCodec(c, chosen))) return null;
  if (!transcodable(chosen) || !source.some((c) => !isSupplemental(c) && transcodable(c))) {
    throw new SubscriptionError('answer', `no transcoder for ${chosen.encoding}`);
  }
  return {
    input: source.map(format),
    output: format(chosen),
    outputExtras: answer.filter((c) => isSupplemental(c)).map(format),
    ptime: ptime ?? m.ptime ?? 20,
    ssrc: previous?.ssrc ?? randomInt(1, 0xffffffff),
  };
}

/** `unsubscribe`: the subscriber's copies stop and its ports go; its tag stays with the call. A tag the call does not know changes nothing. */
export function unsubscribe(s: Services, call: Call, toTag: string): Promise<void> {
  return call.serialize(async () => {
    if (call.destroyed) throw new CallGoneError();
    const ml = call.findByTag(toTag);
    if (!ml || ml.subscriptions.length === 0) return;
    dropSubscriptions(ml);
    subscriptionCounters.unsubscribed++;
    call.lastSignal = Date.now();
    linkSubscriptions(call);
    await afterSignalling(s, call);
  });
}
