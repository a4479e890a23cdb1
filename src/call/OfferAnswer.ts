import { createHash, randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { instanceId } from '../media/InstanceId.js';
import type { Services } from '../Services.js';
import type { LocalAddress } from '../media/LocalInterface.js';
import { codecList, ptimeOf } from '../sdp/codecs.js';
import { CodecStore, payloadTypesOf } from '../sdp/CodecStore.js';
import { codecLinesOf, negotiateAnswer, negotiateOffer, RELAY_CODECS, transcodeSettings, type NegotiationFlags, type Negotiated } from './CodecNegotiation.js';
import { codecNames, mediaConnection, type SessionDescription } from '../sdp/SessionDescription.js';
import { mirroredOrigin } from '../sdp/generate.js';
import { isNullAddress, originOf, rewriteSdp, type MediaOutput, type MediaRewrite } from '../sdp/rewrite.js';
import type { Call } from './Call.js';
import { CallGoneError, UnknownInterfaceError } from './errors.js';
import type { LegSettings } from './LegSettings.js';
import { Media, type MediaEchoMode } from './Media.js';
import { allocatePair, applyCrypto, applyDtmfReporting, applyMediaControl, applyTranscoding, configureLegs, linkParties, linkSubscriptions, setPartyEndpoints } from './MediaSetup.js';
import { existing, resolveParty, type Dialogue } from './Dialogue.js';
import { addIceAddresses, dropIceAddresses } from './IceAddresses.js';
import type { Stream } from './Stream.js';
import { dtlsIdentity } from '../media/transforms/DtlsIdentity.js';
import { hasSecurity, isOsrtpCapable, isSecure, isSrtpProtocol, parseCrypto } from '../sdp/crypto.js';
import { isIceLite, mid, parseCandidates, parseDtls, parseIce } from '../sdp/webrtc.js';
import { bundledSections, isBundleOnly, midExtensionId } from '../sdp/bundle.js';
import { groupsOf, unshare } from './BundleGroup.js';
import type { MediaDescription } from '../sdp/SessionDescription.js';
import { negotiateSdes } from './SdesNegotiation.js';
import { answerWebrtc, offerWebrtc, type IceOffer } from './WebrtcNegotiation.js';
import type { Monologue } from './Monologue.js';
import type { MediaEcho, OfferAnswerOptions, RtcpMuxOption } from './OfferAnswerOptions.js';

export type ExchangeKind = 'offer' | 'answer';

/** Whether an SDP went through this relay already (every session carries our marker). */
export function isLooped(sd: SessionDescription): boolean {
  return sd.sessionLines.some((l) => l === `a=rtpengine:${instanceId()}`);
}

/** What an exchange will do to one m= line, decided before anything changes. */
interface MediaPlan {
  kind: 'relay' | 'rejected' | 'passthrough';
  /** Payload types of the sender's SDP kept (RTP sections). */
  formats?: string[];
  /** Both sides' codec lists after this exchange, and what each side's packets become. */
  negotiated?: Negotiated;
  senderLocal?: LocalAddress;
}

/** An offer or answer checked against the relay's abilities: it can be committed without failing on policy. */
export interface ExchangePlan {
  kind: ExchangeKind;
  sd: SessionDescription;
  opts: OfferAnswerOptions;
  family: 4 | 6;
  receiverLocal: LocalAddress;
  medias: MediaPlan[];
  /** BUNDLE groups each side gets (m= line indices, the first owning the port); null: as it has them. */
  bundles: { sender: number[][] | null; receiver: number[][] | null };
}

/** The parties as the plan sees them: a party that does not exist yet has no medias and the default interface. */
export interface PlanParties {
  senderInterface: string;
  receiverInterface: string;
  receiverFamily: 4 | 6 | undefined;
  /** The sender's medias in place (for an answer: with what the offer passed on to them). */
  senderMedias: readonly Media[];
  /** The receiver's medias in place (for an answer: the offerer's, their pipelines in place). */
  receiverMedias: readonly Media[];
}

/** Members of groups other than their first: they share the first's port. */
function sharersOf(groups: readonly (readonly number[])[]): Set<number> {
  return new Set(groups.flatMap((g) => g.slice(1)));
}

/**
 * Which m= lines share a port towards each side, as decided from the request: a bundling
 * offerer is answered bundled (unless `bundle: reject`), the offer passed on bundles every
 * relayed RTP m= line with `bundle: offer`; otherwise a party keeps the groups it has (the
 * answer of a party the relay offered bundled, a re-offer towards a bundled party).
 */
function planBundles(kind: ExchangeKind, sd: SessionDescription, opts: OfferAnswerOptions, medias: readonly MediaPlan[]): ExchangePlan['bundles'] {
  if (opts.bundle.reject) return { sender: [], receiver: [] };
  if (kind === 'answer') return { sender: null, receiver: null };
  // The port is the first member's: without rtcp-mux there it cannot carry RTCP for all (RFC 8843 9.3).
  const sender = opts.bundle.accept ? bundledSections(sd).filter((g) => sd.medias[g[0]!]!.rtcpMux) : [];
  const relayed = medias.flatMap((mp, i) => (mp.kind === 'relay' && isRtp(sd.medias[i]!.protocol) ? [i] : []));
  return { sender, receiver: opts.bundle.offer && relayed.length > 0 ? [relayed] : null };
}

const isRtp = (protocol: string): boolean => protocol.includes('RTP/');

/**
 * Checks an offer or answer and decides its codecs, without changing anything: an unknown
 * interface, or a codec operation that needs a transcoder, throws here.
 */
export function planExchange(s: Services, kind: ExchangeKind, sd: SessionDescription, opts: OfferAnswerOptions, p: PlanParties): ExchangePlan {
  const sdpFamily = sd.connection?.family ?? sd.medias.find((m) => m.connection)?.connection?.family;
  // `address family` is about the SDP we send on; the sender keeps the family its own SDP uses.
  const family = opts.addressFamily ?? p.receiverFamily ?? sdpFamily ?? 4;
  const receiverLocal = s.interfaces.pick(p.receiverInterface, family);
  if (!receiverLocal) throw new UnknownInterfaceError(p.receiverInterface);
  const negotiate = (md: MediaDescription, i: number): Negotiated => {
    const pt = sidePtimes(kind, opts, ptimeOf(md), p.senderMedias[i], p.receiverMedias[i]);
    const flags: NegotiationFlags = {
      codec: opts.codec, singleCodec: opts.singleCodec, reuseCodecs: opts.reuseCodecs,
      senderPtime: pt.sender, receiverPtime: pt.receiver, ptimeOverride: pt.senderOverride || pt.receiverOverride,
    };
    const sent = CodecStore.owning(RELAY_CODECS, payloadTypesOf(md, ptimeOf(md)));
    const senderPrev = p.senderMedias[i]?.codecStore ?? null;
    const receiverPrev = p.receiverMedias[i]?.codecStore ?? null;
    return kind === 'offer' ? negotiateOffer(sent, senderPrev, receiverPrev, flags) : negotiateAnswer(sent, senderPrev, receiverPrev, md.port === 0 && !(senderSharers.has(i) && isBundleOnly(md)), flags);
  };
  // Sections at port 0 that are bundle-only members of the sender's groups are not rejected.
  const senderSharers = kind === 'offer' && opts.bundle.accept && !opts.bundle.reject
    ? sharersOf(bundledSections(sd))
    : new Set(p.senderMedias.flatMap((m, i) => (m.transportOwner ? [i] : [])));
  const medias: MediaPlan[] = sd.medias.map((md, i) => {
    if (md.type === 'message' && !isRtp(md.protocol)) return { kind: 'passthrough' };
    if (md.port === 0 && !(senderSharers.has(i) && isBundleOnly(md))) {
      if (kind === 'answer' && isRtp(md.protocol) && p.senderMedias[i]?.codecStore) {
        const negotiated = negotiate(md, i);
        const formats = negotiated.receiver.list.map((c) => String(c.pt));
        return { kind: 'rejected', formats: formats.length > 0 ? formats : undefined };
      }
      return { kind: 'rejected' };
    }
    const senderLocal = s.interfaces.pick(p.senderInterface, mediaConnection(sd, md)?.family ?? family);
    if (!senderLocal) throw new UnknownInterfaceError(p.senderInterface);
    if (!isRtp(md.protocol)) return { kind: 'relay', senderLocal };
    const negotiated = negotiate(md, i);
    return { kind: 'relay', formats: negotiated.sender.list.map((c) => String(c.pt)), negotiated, senderLocal };
  });
  return { kind, sd, opts, family, receiverLocal, medias, bundles: planBundles(kind, sd, opts, medias) };
}

/**
 * The a=ptime each side is given, as rtpengine keeps it per media: the last one either side's
 * SDP had, unless a `ptime` (receiver) or `ptime-reverse` (sender) flag set it, which then holds.
 */
function sidePtimes(kind: ExchangeKind, opts: OfferAnswerOptions, own: number | undefined, sm: Media | undefined, rm: Media | undefined): { sender?: number; receiver?: number; senderOverride: boolean; receiverOverride: boolean } {
  let sender = sm?.sdpPtime;
  let receiver = rm?.sdpPtime;
  let senderOverride = sm?.ptimeOverride ?? false;
  let receiverOverride = rm?.ptimeOverride ?? false;
  if (own !== undefined && own > 0) {
    if (!receiverOverride) receiver = own;
    if (!senderOverride) sender = own;
  }
  if (kind === 'offer' && opts.ptime !== undefined) {
    receiver = opts.ptime;
    senderOverride = receiverOverride = true;
  }
  if (kind === 'offer' && opts.ptimeReverse !== undefined) {
    sender = opts.ptimeReverse;
    senderOverride = receiverOverride = true;
  }
  return { sender, receiver, senderOverride, receiverOverride };
}

/** Learning and source checks of the call, from NG flags/keys over the configured default. */
function legSettings(s: Services, opts: OfferAnswerOptions, call: Call): LegSettings {
  const prev = call.legSettings;
  const settings: LegSettings = {
    learning: opts.learning ?? prev?.learning ?? s.config.endpointLearning,
    strictSource: opts.strictSource || (prev?.strictSource ?? false),
    mediaHandover: opts.mediaHandover || (prev?.mediaHandover ?? false),
    asymmetric: opts.asymmetric ?? prev?.asymmetric ?? false,
  };
  call.legSettings = settings;
  return settings;
}

/** Whether the offer passed on carries a=rtcp-mux: the offerer's choice unless `offer`/`require` or `demux` override it. */
function offersMux(offered: boolean, opts: ReadonlySet<RtcpMuxOption>): boolean {
  if (opts.has('offer') || opts.has('require')) return true;
  if (opts.has('demux')) return false;
  return offered;
}

/**
 * Decided at the offer, as rtpengine does: whether the answer will accept the offerer's
 * rtcp-mux whatever the answerer says (true/false), or follow the answerer (null). A mux
 * the relay did not pass on is accepted (the relay demuxes) unless `reject`; `accept` and
 * `reject` override the answerer's choice. Each via-branch keeps its offer's decision for its answer.
 */
function muxInAnswer(offered: boolean, downstream: boolean, opts: ReadonlySet<RtcpMuxOption>): boolean | null {
  if (!offered) return false;
  if (!downstream) return !opts.has('reject');
  if (opts.has('accept')) return true;
  if (opts.has('reject')) return false;
  return null;
}

/** The endpoint the sender wants media at: its SDP's, or the SIP source. */
function senderAddress(opts: OfferAnswerOptions, sdpAddress: string | undefined): string | undefined {
  return opts.sipSourceAddress ?? sdpAddress;
}

/** The address the relay writes in its SDP for `local`: `media address` when given (as rtpengine 10.5 does), else the interface's advertised one. */
function advertisedOf(opts: OfferAnswerOptions, local: LocalAddress): { advertised: string; family: 4 | 6 } {
  const m = opts.mediaAddress;
  return m === undefined ? local : { advertised: m, family: isIPv6(m) ? 6 : 4 };
}

/** Bound RTP/RTCP pairs an exchange needs, per m= line and side: not part of the call until commit. */
export interface ScratchPorts {
  sender: (Stream[] | undefined)[];
  receiver: (Stream[] | undefined)[];
  /** Receiver m= lines whose ports the new pair replaces (`no port latching`). */
  relatched: Set<number>;
}

/** Closes scratch streams the commit did not take (their ports go back to the pool). */
function discard(ports: ScratchPorts): void {
  for (const side of [ports.sender, ports.receiver]) for (const pair of side) for (const st of pair ?? []) st.close();
}

/**
 * Phase 2: binds the ports a planned exchange needs (a media without ports on either side),
 * outside the call. All or nothing: when one allocation fails, the others are released and the
 * call has not changed.
 */
export async function allocateExchange(s: Services, call: Call, plan: ExchangePlan, dialogue: Dialogue): Promise<ScratchPorts> {
  const sender = existing(dialogue.sender);
  const receiver = existing(dialogue.receiver);
  const ports: ScratchPorts = { sender: [], receiver: [], relatched: new Set() };
  const allocations: Promise<void>[] = [];
  // Medias in place that start speaking ICE get their other addresses now (given up again if the change fails).
  const widened: Media[] = [];
  const widen = (m: Media): void => {
    if (!m.rtp || !m.rtcp || m.transportOwner || m.rtp.alternates.length > 0) return;
    widened.push(m);
    allocations.push(addIceAddresses(s.media, s.interfaces, m.rtp, m.rtcp));
  };
  const take = (side: (Stream[] | undefined)[], i: number, local: LocalAddress, ice: boolean): void => {
    allocations.push(allocatePair(s.media, call.callId, local).then(async (pair) => {
      side[i] = pair;
      if (ice) await addIceAddresses(s.media, s.interfaces, pair[0]!, pair[1]!);
    }));
  };
  const senderSharers = sharingAfter(sender, plan.bundles.sender);
  const receiverSharers = sharingAfter(receiver, plan.bundles.receiver);
  plan.medias.forEach((mp, i) => {
    if (mp.kind !== 'relay') return;
    const md = plan.sd.medias[i]!;
    const sm = sender?.medias[i];
    const rm = receiver?.medias[i];
    if (needsPorts(sm, senderSharers.has(i))) take(ports.sender, i, mp.senderLocal!, mayUseIce(plan, 'sender', md, sm));
    else if (sm && mayUseIce(plan, 'sender', md, sm)) widen(sm);
    // An offer to oneself holds one set of ports.
    const moved = rm !== undefined && sm !== undefined && movedWithoutLatching(plan, md, sm, rm);
    if (moved) ports.relatched.add(i);
    if ((needsPorts(rm, receiverSharers.has(i)) || moved) && !(receiver && receiver === sender)) take(ports.receiver, i, plan.receiverLocal, mayUseIce(plan, 'receiver', md, rm));
    else if (rm && rm !== sm && mayUseIce(plan, 'receiver', md, rm)) widen(rm);
  });
  // Every allocation settles before a failure is reported: one still binding after the change
  // was given up would hold ports nobody releases.
  const outcomes = await Promise.allSettled(allocations);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed || call.destroyed) {
    for (const m of widened) dropIceAddresses(m);
    discard(ports);
    if (failed) throw failed.reason;
    throw new CallGoneError();
  }
  return ports;
}

/**
 * Whether a side may speak ICE with the relay after this exchange, as the WebRTC negotiation
 * will decide it (an answer may still decline): its ports then get the interface's other addresses.
 */
function mayUseIce(plan: ExchangePlan, side: 'sender' | 'receiver', md: MediaDescription, m: Media | undefined): boolean {
  const ice = plan.opts.webrtc.ice;
  const own = parseIce(plan.sd, md) !== null;
  // An offerer is answered with ICE when it spoke it (or is forced to); an answerer speaks it when its answer does.
  if (side === 'sender') return own || (plan.kind === 'offer' && (ice === 'force' || ice === 'force-relay'));
  if (ice === 'remove') return false;
  if (ice === 'force' || ice === 'force-relay') return true;
  if (plan.kind === 'offer') return ice === 'optional' || (m?.webrtc.iceWanted ?? own);
  return m?.webrtc.icePeer != null && (ice !== 'optional' || own);
}

/** The m= lines of a party that will share another's port after the exchange. */
function sharingAfter(ml: Monologue | undefined, groups: number[][] | null): Set<number> {
  if (groups !== null) return sharersOf(groups);
  return new Set((ml?.medias ?? []).flatMap((m, i) => (m.transportOwner ? [i] : [])));
}

/** A media needs ports of its own when it has none, or shares a port it will not share any more. */
function needsPorts(m: Media | undefined, sharer: boolean): boolean {
  if (sharer) return false;
  return !m?.rtp || m.transportOwner !== null;
}

/** A party's groups as the plan decided them (null: as they are), before ports are attached. */
function regroup(ml: Monologue, sections: number[][] | null): void {
  if (sections === null) return;
  const groups = groupsOf(ml.medias, sections);
  unshare(ml.medias, groups);
  ml.bundles = groups;
}

/** Members share their owner's port once the owner has one. */
function share(ml: Monologue): void {
  for (const g of ml.bundles) if (g.owner.rtp) g.share();
}

const inBundle = (ml: Monologue, m: Media): boolean => ml.bundles.some((g) => g.has(m));

/**
 * `no port latching`: the offerer of an ICE media moved its endpoint (address or RTP port), so
 * its receiver gets new ports and an ICE restart, as rtpengine's endpoint maps do.
 */
function movedWithoutLatching(plan: ExchangePlan, md: MediaDescription, sm: Media, rm: Media): boolean {
  if (plan.kind !== 'offer' || !plan.opts.noPortLatching || !rm.rtp || rm.transportOwner || rm.webrtc.ourIce === null || sm.sdpAddress === null) return false;
  const address = senderAddress(plan.opts, mediaConnection(plan.sd, md)?.address);
  return md.port !== 0 && (md.port !== sm.sdpRtpPort || (address !== undefined && address !== sm.sdpAddress));
}

/** Gives a media the scratch pair planned for it, once; `replace`: its old ports go, with the ICE credentials they were offered with. */
function attach(m: Media, side: (Stream[] | undefined)[], i: number, replace = false): void {
  const pair = side[i];
  if (pair && replace && m.rtp) {
    for (const st of m.streams()) st.close();
    m.rtp = m.rtcp = null;
    m.webrtc.ourIce = null;
  }
  if (!pair || m.rtp) return;
  [m.rtp, m.rtcp] = pair as [Stream, Stream];
  side[i] = undefined;
}

/**
 * Phase 3, synchronous: takes an SDP from the sender towards the receiver as planned. Creates
 * or names the parties, records the sender's media and endpoints, gives both sides their new
 * ports, links their legs and returns the SDP for the receiver, pointing at its ports on the relay.
 */
export function commitExchange(s: Services, call: Call, plan: ExchangePlan, dialogue: Dialogue, ports: ScratchPorts): { sdp: string; sender: Monologue; receiver: Monologue } {
  try {
    return applyExchange(s, call, plan, dialogue, ports);
  } finally {
    // Whatever the commit did not take (an offer to oneself, a fault half-way) goes back.
    discard(ports);
  }
}

function applyExchange(s: Services, call: Call, plan: ExchangePlan, dialogue: Dialogue, ports: ScratchPorts): { sdp: string; sender: Monologue; receiver: Monologue } {
  const { kind, sd, opts } = plan;
  const now = Date.now();
  call.lastSignal = now;
  const sender = resolveParty(call, dialogue.sender, now);
  const receiver = resolveParty(call, dialogue.receiver, now);
  // As rtpengine: `label` names the party whose SDP this is, the answerer's at an answer.
  if (opts.label) sender.label = opts.label;
  if (kind === 'offer') {
    if (opts.viaBranch) sender.viaBranch = opts.viaBranch;
    if (opts.recordCall) s.hooks.startRecording(call);
  }
  const sdpFamily = sd.connection?.family ?? sd.medias.find((m) => m.connection)?.connection?.family;
  receiver.family = plan.family;
  if (sdpFamily) sender.family = sdpFamily;
  const receiverLocal = plan.receiverLocal;
  const advertised = advertisedOf(opts, receiverLocal);
  for (let i = 0; i < sd.medias.length; i++) {
    sender.medias[i] ??= new Media(i + 1);
    receiver.medias[i] ??= new Media(i + 1);
  }
  // Ports first, so that every member of a group sees its owner's.
  regroup(sender, plan.bundles.sender);
  regroup(receiver, plan.bundles.receiver);
  plan.medias.forEach((mp, i) => {
    if (mp.kind !== 'relay') return;
    attach(sender.medias[i]!, ports.sender, i);
    attach(receiver.medias[i]!, ports.receiver, i, ports.relatched.has(i));
  });
  share(sender);
  share(receiver);
  const rewrites: MediaOutput[] = [];
  let firstTrickling = false;
  /** Per relayed m= line: the transport it leaves with, for SRTP/DTLS/ICE once ports are known. */
  const transports: (string | undefined)[] = [];
  for (let i = 0; i < sd.medias.length; i++) {
    const md = sd.medias[i]!;
    const mp = plan.medias[i]!;
    const sm = sender.medias[i]!;
    const rm = receiver.medias[i]!;
    if (opts.mediaEcho) setEcho(opts.mediaEcho, sm, rm);
    // A bundled member is reached where its group's port is (its own may be 0: bundle-only).
    const endpointMd = sm.transportOwner ? (sd.medias[sender.medias.indexOf(sm.transportOwner)] ?? md) : md;
    const conn = mediaConnection(sd, endpointMd);
    sm.type = rm.type = md.type;
    const protocolChanged = sm.protocol !== md.protocol;
    sm.protocol = md.protocol;
    sm.osrtp = isOsrtpCapable(md.protocol) && hasSecurity(sd, md);
    // An offer resets the receiver's transport when the offerer changed its own; otherwise
    // the receiver keeps what an earlier offer gave it (a `transport-protocol` override).
    if (kind === 'offer' && (protocolChanged || !rm.protocolOverride)) {
      rm.protocol = md.protocol;
      rm.osrtp = sm.osrtp;
      rm.protocolOverride = false;
    }
    sm.formats = (mp.formats ?? md.formats).filter((pt) => md.formats.includes(pt));
    sm.codecs = codecNames({ ...md, formats: sm.formats });
    sm.sent = isRtp(md.protocol) ? codecList(md, sm.formats) : [];
    sm.ptime = ptimeOf(md);
    sm.direction = md.direction ?? sd.direction ?? 'sendrecv';
    sm.passthrough = rm.passthrough = mp.kind === 'passthrough';
    sm.rejected = (md.port === 0 && !sm.transportOwner) || mp.kind === 'passthrough';
    if (kind === 'answer' && sm.rejected) rm.rejected = true;
    // A port for media the other side refused before (a re-INVITE bringing video back, an
    // answer taking up what its offer refused): rtpengine opens ports for it again.
    if (!sm.rejected) rm.rejected = false;
    if (isRtp(md.protocol)) {
      const pt = sidePtimes(kind, opts, ptimeOf(md), sm, rm);
      [sm.sdpPtime, rm.sdpPtime, sm.ptimeOverride, rm.ptimeOverride] = [pt.sender, pt.receiver, pt.senderOverride, pt.receiverOverride];
    }
    const neg = mp.negotiated;
    if (neg) {
      sm.codecStore = neg.sender;
      rm.codecStore = neg.receiver;
      // Each side's packets converted for the other, in the packet size the other side was given.
      rm.transcoding = transcodeSettings(neg.fromReceiver, neg.receiver, sm.sdpPtime, rm.transcoding, s.config.silenceDetect);
      if (kind === 'answer') sm.transcoding = transcodeSettings(neg.fromSender, neg.sender, rm.sdpPtime, sm.transcoding, s.config.silenceDetect);
    }
    if (mp.kind !== 'relay') {
      rewrites.push(mp.kind === 'passthrough'
        ? { kind: 'passthrough', connection: md.connection || !sd.connection ? undefined : `c=IN IP${sd.connection.family} ${sd.connection.address}` }
        : { kind: 'rejected', formats: mp.formats });
      continue;
    }
    sm.sdpAddress = senderAddress(opts, conn?.address) ?? null;
    sm.sdpRtpPort = endpointMd.port;
    sm.sdpRtcpPort = endpointMd.rtcpPort ?? endpointMd.port + 1;
    sm.rtcpMux = md.rtcpMux || inBundle(sender, sm);
    sm.midExtension = midExtensionId(md);
    // A bundle's port carries RTCP for all its members (RFC 8843 9.3).
    const downstreamMux = kind === 'offer' && (offersMux(md.rtcpMux, opts.rtcpMux) || inBundle(receiver, rm));
    if (kind === 'answer') {
      sm.muxed = md.rtcpMux || inBundle(sender, sm);
      const v = mid(md);
      if (v !== undefined) sm.webrtc.mid = v;
      const branch = opts.viaBranch === undefined ? undefined : rm.muxByBranch.decision(opts.viaBranch);
      rm.muxed = (rm.rtcpMux && ((branch === undefined ? rm.muxInAnswer : branch) ?? md.rtcpMux)) || inBundle(receiver, rm);
    } else {
      sm.muxInAnswer = inBundle(sender, sm) ? true : muxInAnswer(md.rtcpMux, downstreamMux, opts.rtcpMux);
      if (opts.viaBranch !== undefined) sm.muxByBranch.offered(opts.viaBranch, sm.muxInAnswer);
      if (opts.rtcpMux.has('require')) sm.muxed = sm.rtcpMux;
    }
    // `accept` (answer): an answerer that changed the profile it was offered passes the change
    // on to the offerer; otherwise the offerer gets back the profile it offered.
    const transport = opts.transport;
    let protocol: string | undefined = transport === 'accept' ? (kind === 'answer' ? (protocolChanged ? md.protocol : rm.protocol) : undefined) : transport;
    if (kind === 'offer' && protocol !== undefined) {
      rm.protocolOverride = true;
      rm.osrtp = false;
    }
    if (kind === 'offer' && protocol === undefined && rm.protocolOverride) protocol = rm.protocol;
    // OSRTP-offer: a plain RTP profile goes out carrying SRTP.
    if (kind === 'offer' && opts.osrtp.offer && isOsrtpCapable(protocol ?? md.protocol)) rm.osrtp = true;
    if (kind === 'answer') {
      // An OSRTP offerer answered in plain RTP gets plain RTP back, unless OSRTP-accept keeps SRTP towards it.
      if (rm.osrtp && !isSecure(md.protocol, sm.osrtp) && !opts.osrtp.accept) rm.osrtp = false;
      // An answer goes back in the offerer's profile when the relay bridged plain and SRTP.
      if (protocol === undefined && isSecure(md.protocol, sm.osrtp) !== isSecure(rm.protocol, rm.osrtp)) protocol = rm.protocol;
    }
    if (protocol) rm.protocol = protocol;
    transports[i] = protocol ?? md.protocol;
    // rtpengine: a null address on port 9 with ICE is a trickling party with no candidates yet, not a hold.
    const trickling = isNullAddress(conn?.address) && md.port === 9 && parseIce(sd, md) !== null;
    if (i === 0) firstTrickling = trickling;
    const hold = isNullAddress(conn?.address) && !trickling && !sm.transportOwner;
    rewrites.push({
      kind: 'relay',
      protocol,
      address: advertised.advertised,
      family: advertised.family,
      rtpPort: rm.rtp!.localPort,
      // `rtcp-mux: require` offers RTCP on the RTP port only.
      rtcpPort: (kind === 'answer' && rm.muxed) || (kind === 'offer' && opts.rtcpMux.has('require')) ? rm.rtp!.localPort : rm.rtcp!.localPort,
      rtcpMux: kind === 'answer' ? rm.muxed : downstreamMux,
      formats: neg ? neg.receiver.list.map((c) => String(c.pt)) : mp.formats,
      codecLines: neg ? codecLinesOf(neg.receiver) : undefined,
      nullAddress: hold && !opts.replace.has('zero-address'),
      onHold: hold,
      ptime: isRtp(md.protocol) ? rm.sdpPtime : undefined,
    });
  }
  // Ports are known: so are ICE candidates. SRTP (SDES, DTLS) and ICE per media.
  let iceLite = false;
  // Owners first: the members of a group get their owner's ICE credentials (one transport).
  const order = rewrites.map((_r, i) => i).sort((a, b) => Number(receiver.medias[a]!.transportOwner !== null) - Number(receiver.medias[b]!.transportOwner !== null));
  for (const i of order) {
    const r = rewrites[i]!;
    if (r.kind !== 'relay') continue;
    const rm = receiver.medias[i]!;
    if (rm.transportOwner) rm.webrtc.ourIce = rm.transportOwner.webrtc.ourIce;
    const lines = secureMedia(kind, sender.medias[i]!, rm, sd, sd.medias[i]!, transports[i]!, opts, r.rtcpMux);
    Object.assign(r, lines.rewrite);
    if (kind === 'offer') r.mid = offeredMid(opts, receiver, rm, sd.medias[i]!, i);
    if (lines.iceLite) iceLite = true;
    // As rtpengine: towards an ICE party the relay's address replaces a null one (its candidates name it anyway).
    if (hasIceCredentials(r.ice)) r.nullAddress = false;
  }
  // Streams that do not speak ICE with their party keep only their own address (the offerer's is decided by the answer).
  // Passing ICE through, the relay's candidates stay in the SDP (with no agent of its own).
  receiver.medias.forEach((m, i) => {
    if (kind === 'answer' ? !speaksIce(m, sender.medias[i]) : m.webrtc.ourIce === null) dropIceAddresses(m);
  });
  if (kind === 'answer') sender.medias.forEach((m, i) => !speaksIce(m, receiver.medias[i]) && dropIceAddresses(m));
  sender.sdpSeen = true;
  const origin = mirroredOrigin(sd);
  if (origin) sender.ownOrigin = origin;
  const settings = legSettings(s, opts, call);
  const observer = s.hooks.legObserver(call);
  const tap = s.hooks.tap(call);
  configureLegs(sender, settings, observer, tap);
  configureLegs(receiver, settings, observer, tap);
  // After configureLegs, so that a leg that does not learn starts out confirmed.
  for (const m of sender.medias) setPartyEndpoints(m, now);
  for (const m of receiver.medias) setPartyEndpoints(m, now);
  linkParties(sender, receiver);
  linkSubscriptions(call);
  applyCrypto(sender);
  applyCrypto(receiver);
  applyTranscoding(sender);
  applyTranscoding(receiver);
  applyMediaControl(call, sender);
  applyMediaControl(call, receiver);
  applyDtmfReporting(call, sender);
  applyDtmfReporting(call, receiver);
  if (kind === 'offer') call.offerer = sender;
  return { sdp: sdpFor(receiver, sd, opts, advertised, rewrites, iceLite, firstTrickling), sender, receiver };
}

/**
 * The a=mid an offer's section gets when it has none: `generate mid` (as rtpengine: the
 * section's number), or a bundle towards the receiver, which needs one. The receiver's media
 * remembers what it was offered (its answer says it again; the bundle's routes need it now).
 */
function offeredMid(opts: OfferAnswerOptions, receiver: Monologue, rm: Media, md: MediaDescription, i: number): string | undefined {
  const own = mid(md);
  const out = own ?? (opts.generateMid || inBundle(receiver, rm) ? String(i + 1) : undefined);
  if (out !== undefined) rm.webrtc.mid = out;
  return own === undefined ? out : undefined;
}

/**
 * SDES, DTLS and ICE of one relayed media: what the receiver's SDP gets (a=crypto, a=setup and
 * a=fingerprint, ICE-lite attributes, a=mid) and the keys and roles of both sides' legs.
 */
function secureMedia(kind: ExchangeKind, sm: Media, rm: Media, sd: SessionDescription, md: MediaDescription, outProtocol: string, opts: OfferAnswerOptions, muxedOut: boolean): { rewrite: Partial<MediaRewrite>; iceLite: boolean } {
  const web = opts.webrtc;
  const inSecure = isSecure(md.protocol, sm.osrtp);
  const outSecure = isSecure(outProtocol, rm.osrtp);
  const offererDtls = kind === 'answer' && rm.webrtc.dtlsPeer !== null && outSecure && web.dtls !== 'off' && dtlsIdentity() !== null;
  const sdesLines = parseCrypto(md);
  let crypto = negotiateSdes(kind, sm, rm, inSecure, outSecure, sdesLines, opts.sdes, offererDtls);
  const dtlsIn = parseDtls(sd, md);
  const iceIn: IceOffer = { credentials: parseIce(sd, md), candidates: parseCandidates(md), lite: isIceLite(sd) };
  const lines = kind === 'offer'
    // An offer lists the RTCP candidates too (the answer may still decline rtcp-mux), unless
    // it requires rtcp-mux or the receiver muxes already.
    ? offerWebrtc(sm, rm, inSecure, outSecure, dtlsIn, iceIn, trickleOf(sd, md), mid(md), web, opts.rtcpMux.has('require') || rm.muxed)
    : answerWebrtc(sm, rm, outSecure, dtlsIn, iceIn, inSecure && sdesLines.length > 0, web, muxedOut);
  if (lines.dtlsChosen) crypto = [];
  const terminates = inSecure || outSecure;
  return {
    rewrite: { crypto, dtls: terminates ? lines.dtls : undefined, ice: lines.ice, keepIce: lines.icePassthrough, ...(kind === 'answer' ? { mid: rm.webrtc.mid, replaceMid: true } : {}) },
    iceLite: lines.iceLite,
  };
}

/**
 * `media echo` as rtpengine 10.5 applies it, the same in an offer and an answer: `forward`
 * sends the receiver's media back to it and drops the sender's, `backwards` the other way round.
 */
function setEcho(mode: MediaEcho, sm: Media, rm: Media): void {
  const [sender, receiver]: [MediaEchoMode, MediaEchoMode] =
    mode === 'forward' ? ['blackhole', 'echo'] : mode === 'backwards' ? ['echo', 'blackhole'] : mode === 'both' ? ['echo', 'echo'] : ['blackhole', 'blackhole'];
  sm.echo = sender;
  rm.echo = receiver;
}

/** After an answer: the relay runs ICE with the media's party, or passes ICE through between both parties. */
const speaksIce = (m: Media, peer: Media | undefined): boolean =>
  m.webrtc.ice !== null || (m.webrtc.icePassthrough && m.webrtc.icePeer !== null && (peer?.webrtc.icePeer ?? null) !== null);

const hasIceCredentials = (lines: readonly string[] | undefined): boolean => lines?.some((l) => l.startsWith('a=ice-ufrag:')) ?? false;

/** `a=ice-options:` with `trickle`, in the media section or the session. */
function trickleOf(sd: SessionDescription, m: MediaDescription): boolean {
  return [...m.lines, ...sd.sessionLines].some((l) => l.startsWith('a=ice-options:') && /\btrickle\b/.test(l));
}

/** The SDP for the receiver, with what the `replace` options keep of the SDPs it was sent before. */
function sdpFor(receiver: Monologue, sd: SessionDescription, opts: OfferAnswerOptions, local: { advertised: string; family: 4 | 6 }, medias: MediaOutput[], iceLite: boolean, trickling: boolean): string {
  const origin = originOf(sd);
  const firstSdp = receiver.sdpUsername === undefined;
  if (firstSdp) {
    receiver.sdpUsername = origin.username ?? '-';
    receiver.sdpSessionName = origin.sessionName ?? '';
    const v = /^\d+$/.test(origin.version ?? '') ? BigInt(origin.version!) : 0n;
    receiver.sdpVersion = v === 0n || v >= 2n ** 64n - 1n ? BigInt(`0x${randomBytes(4).toString('hex')}`) : v;
  }
  const replace = opts.replace;
  const render = (): string =>
    rewriteSdp(sd, {
      address: local.advertised,
      family: local.family,
      replaceOrigin: replace.has('origin'),
      // The sender's ICE never passes: the relay is the ICE agent towards each side.
      removeIce: true,
      iceLite,
      rtcpAttribute: opts.rtcpAttribute,
      originalSendrecv: opts.originalSendrecv,
      replaceZeroAddress: replace.has('zero-address') || trickling || hasIceCredentials(medias.find((m) => m.kind === 'relay')?.ice),
      replaceSessionConnection: replace.has('session-connection'),
      instanceId: opts.loopProtect ? instanceId() : undefined,
      username: !firstSdp && replace.has('username') ? receiver.sdpUsername : undefined,
      sessionName: !firstSdp && replace.has('session-name') ? receiver.sdpSessionName : undefined,
      version: replace.has('sdp-version') ? String(receiver.sdpVersion) : undefined,
      medias,
      bundleGroups: receiver.bundles.map((g) => g.mids).filter((mids) => mids.length > 0),
      stripExtmap: opts.stripExtmap,
    });
  if (replace.has('sdp-version')) {
    // The next version when what the receiver gets changed, or where the sender wants media
    // (a new port with the same SDP otherwise, as rtpengine 10.5 counts it).
    // A digest, not the text: it goes into the call's record.
    const keyOf = (): string =>
      createHash('sha1').update([render(), ...sd.medias.map((m) => `${mediaConnection(sd, m)?.address ?? ''} ${m.port}`)].join('\n')).digest('base64');
    let key = keyOf();
    if (receiver.lastOutDigest !== undefined && receiver.lastOutDigest !== key) {
      receiver.sdpVersion = receiver.sdpVersion! + 1n;
      // Kept with the new version in it, so that the same SDP next time compares equal.
      key = keyOf();
    }
    receiver.lastOutDigest = key;
  }
  return render();
}
