import { isIP } from 'node:net';
import type { Services } from '../Services.js';
import { NgError, NgErrorText } from '../ng/errors.js';
import type { NgRequest } from '../ng/NgRequest.js';
import { PortsExhaustedError } from '../media/MediaPlane.js';
import { codecNames, mediaConnection, parseSdp, SdpIncompleteError, SdpParseError, type SessionDescription } from '../sdp/SessionDescription.js';
import { rewriteSdp, type MediaRewrite } from '../sdp/rewrite.js';
import type { Call } from './Call.js';
import type { LegSettings } from './LegSettings.js';
import { Media } from './Media.js';
import { allocateStreams, applyCrypto, configureLegs, linkParties, setPartyEndpoints } from './MediaSetup.js';
import { formatCrypto, isSrtpProtocol, parseCrypto } from '../sdp/crypto.js';
import { dtlsIdentity } from '../media/transforms/DtlsIdentity.js';
import { mid, parseDtls, parseIce } from '../sdp/webrtc.js';
import type { MediaDescription } from '../sdp/SessionDescription.js';
import { answerWebrtc, offerWebrtc, type WebrtcOptions } from './WebrtcNegotiation.js';
import { answerCrypto, foldSuite, keying, offerCrypto, passThrough, type SdesOptions } from './SdesNegotiation.js';
import type { Monologue } from './Monologue.js';

export type ExchangeKind = 'offer' | 'answer';

export function parseRequestSdp(text: string): SessionDescription {
  try {
    return parseSdp(text);
  } catch (e) {
    if (e instanceof SdpIncompleteError) throw new NgError(NgErrorText.incompleteSdp);
    if (e instanceof SdpParseError) throw new NgError(NgErrorText.sdpParse);
    throw e;
  }
}

/** Learning and source checks of the call, from NG flags/keys over the configured default. */
function legSettings(s: Services, req: NgRequest, call: Call): LegSettings {
  const prev = call.legSettings;
  const learningKey = req.str('endpoint-learning');
  const learning = (['off', 'immediate', 'delayed', 'heuristic'] as const).find((l) => l === learningKey || req.has(`endpoint-learning-${l}`));
  const settings: LegSettings = {
    learning: learning ?? prev?.learning ?? s.config.endpointLearning,
    strictSource: req.has('strict-source') || (prev?.strictSource ?? false),
    mediaHandover: req.has('media-handover') || (prev?.mediaHandover ?? false),
    asymmetric: req.has('symmetric') ? false : req.has('asymmetric') || (prev?.asymmetric ?? false),
  };
  call.legSettings = settings;
  return settings;
}

/** Whether the offer passed on carries a=rtcp-mux: the offerer's choice unless `offer`/`require` or `demux` override it. */
function offersMux(offered: boolean, opts: Set<string>): boolean {
  if (opts.has('offer') || opts.has('require')) return true;
  if (opts.has('demux')) return false;
  return offered;
}

/**
 * Decided at the offer, as rtpengine does: whether the answer will accept the offerer's
 * rtcp-mux whatever the answerer says (true/false), or follow the answerer (null). A mux
 * the relay did not pass on is accepted (the relay demuxes) unless `reject`; `accept` and
 * `reject` override the answerer's choice.
 */
function muxInAnswer(offered: boolean, downstream: boolean, opts: Set<string>): boolean | null {
  if (!offered) return false;
  if (!downstream) return !opts.has('reject');
  if (opts.has('accept')) return true;
  if (opts.has('reject')) return false;
  return null;
}

/** The endpoint the sender wants media at: SDP, or `media address`, or the SIP source. */
function senderAddress(req: NgRequest, sdpAddress: string | undefined): string | undefined {
  const mediaAddress = req.str('media-address');
  if (mediaAddress && isIP(mediaAddress)) return mediaAddress;
  if (req.has('sip-source-address')) {
    const rf = req.rawList('received-from');
    if (rf.length === 2 && isIP(rf[1]!)) return rf[1];
  }
  return sdpAddress;
}

/**
 * Takes an SDP from `sender` towards `receiver`: records the sender's media and endpoints,
 * makes sure both sides hold bound ports, links their legs and returns the SDP for the
 * receiver, pointing at the receiver's ports on the relay.
 */
export async function exchangeSdp(
  s: Services,
  call: Call,
  kind: ExchangeKind,
  sender: Monologue,
  receiver: Monologue,
  sd: SessionDescription,
  req: NgRequest,
): Promise<string> {
  const now = Date.now();
  const rtcpMuxOpts = req.option('rtcp-mux');
  const sdpFamily = sd.connection?.family ?? sd.medias.find((m) => m.connection)?.connection?.family;
  // `address family` is about the SDP we send on; the sender keeps the family its own SDP uses.
  const family = familyOf(req) ?? receiver.family ?? sdpFamily ?? 4;
  receiver.family = family;
  if (sdpFamily) sender.family = sdpFamily;
  const receiverLocal = s.interfaces.pick(receiver.interfaceName, family);
  if (!receiverLocal) throw new NgError(`Unknown logical interface '${receiver.interfaceName}'`);

  const transport = transportProtocol(req);
  const sdes = sdesOptions(req);
  const web = webrtcOptions(req);
  let iceLite = false;
  const rewrites: (MediaRewrite | null)[] = [];
  for (let i = 0; i < sd.medias.length; i++) {
    const md = sd.medias[i]!;
    const conn = mediaConnection(sd, md);
    const sm = (sender.medias[i] ??= new Media(i + 1));
    const rm = (receiver.medias[i] ??= new Media(i + 1));
    sm.type = rm.type = md.type;
    sm.protocol = md.protocol;
    // The offerer's media keeps the transport it offered; an answer does not change it.
    if (kind === 'offer') rm.protocol = md.protocol;
    sm.formats = md.formats;
    sm.codecs = codecNames(md);
    sm.direction = md.direction ?? sd.direction ?? 'sendrecv';
    sm.rejected = md.port === 0;
    if (kind === 'answer' && sm.rejected) rm.rejected = true;
    // A port for media the other side refused before (a re-INVITE bringing video back, an
    // answer taking up what its offer refused): rtpengine opens ports for it again.
    if (!sm.rejected) rm.rejected = false;
    if (sm.rejected) {
      rewrites.push(null);
      continue;
    }
    sm.sdpAddress = senderAddress(req, conn?.address) ?? null;
    sm.sdpRtpPort = md.port;
    sm.sdpRtcpPort = md.rtcpPort ?? md.port + 1;
    sm.rtcpMux = md.rtcpMux;
    const downstreamMux = kind === 'offer' && offersMux(md.rtcpMux, rtcpMuxOpts);
    if (kind === 'answer') {
      sm.muxed = md.rtcpMux;
      rm.muxed = rm.rtcpMux && (rm.muxInAnswer ?? md.rtcpMux);
    } else {
      sm.muxInAnswer = muxInAnswer(md.rtcpMux, downstreamMux, rtcpMuxOpts);
      if (rtcpMuxOpts.has('require')) sm.muxed = sm.rtcpMux;
    }
    const senderLocal = s.interfaces.pick(sender.interfaceName, conn?.family ?? family);
    if (!senderLocal) throw new NgError(`Unknown logical interface '${sender.interfaceName}'`);
    try {
      // Both sides bind at once; each takes its ports from the pool before the first await.
      await Promise.all([allocateStreams(s.media, call.callId, sm, senderLocal), allocateStreams(s.media, call.callId, rm, receiverLocal)]);
    } catch (e) {
      if (e instanceof PortsExhaustedError) throw new NgError(NgErrorText.noPorts);
      throw e;
    }
    const local = rm.rtp!.local;
    // `accept` (answer) hands the offerer back the transport it offered.
    let protocol = transport === 'accept' ? (kind === 'answer' ? rm.protocol : undefined) : transport;
    // An answer goes back in the offerer's profile when the relay bridged plain and SRTP.
    if (kind === 'answer' && protocol === undefined && isSrtpProtocol(md.protocol) !== isSrtpProtocol(rm.protocol)) protocol = rm.protocol;
    if (protocol) rm.protocol = protocol;
    const outProtocol = protocol ?? md.protocol;
    const muxedOut = kind === 'answer' ? rm.muxed : downstreamMux;
    const offererDtls = kind === 'answer' && rm.webrtc.dtlsPeer !== null && isSrtpProtocol(outProtocol) && web.dtls !== 'off' && dtlsIdentity() !== null;
    const sdesLines = parseCrypto(md);
    let crypto = negotiateSdes(kind, sm, rm, md.protocol, outProtocol, sdesLines, sdes, offererDtls);
    const dtlsIn = parseDtls(sd, md);
    const iceIn = parseIce(sd, md);
    const lines = kind === 'offer'
      ? offerWebrtc(sm, rm, md.protocol, outProtocol, dtlsIn, iceIn, trickleOf(sd, md), mid(md), web, false)
      : answerWebrtc(sm, rm, outProtocol, dtlsIn, iceIn, isSrtpProtocol(md.protocol) && sdesLines.length > 0, web, muxedOut);
    if (lines.dtlsChosen) crypto = [];
    if (lines.iceLite) iceLite = true;
    const terminates = isSrtpProtocol(md.protocol) || isSrtpProtocol(outProtocol);
    rewrites.push({
      protocol,
      address: local.advertised,
      family: local.family,
      rtpPort: rm.rtp!.localPort,
      rtcpPort: kind === 'answer' && rm.muxed ? rm.rtp!.localPort : rm.rtcp!.localPort,
      rtcpMux: muxedOut,
      crypto,
      dtls: terminates ? lines.dtls : undefined,
      ice: lines.ice,
      mid: kind === 'answer' ? rm.webrtc.mid : undefined,
    });
  }
  sender.sdpSeen = true;
  const settings = legSettings(s, req, call);
  const observer = s.hooks.legObserver(call);
  const tap = s.hooks.tap(call);
  configureLegs(sender, settings, observer, tap);
  configureLegs(receiver, settings, observer, tap);
  // After configureLegs, so that a leg that does not learn starts out confirmed.
  for (const m of sender.medias) setPartyEndpoints(m, now);
  for (const m of receiver.medias) setPartyEndpoints(m, now);
  linkParties(sender, receiver);
  applyCrypto(sender);
  applyCrypto(receiver);

  const replace = req.option('replace');
  return rewriteSdp(sd, {
    address: receiverLocal.advertised,
    family: receiverLocal.family,
    replaceOrigin: replace.has('origin'),
    // The sender's ICE never passes: the relay is the ICE agent (lite) towards each side.
    removeIce: true,
    iceLite,
    rtcpAttribute: req.has('no-rtcp-attribute') ? 'none' : req.has('full-rtcp-attribute') ? 'full' : 'short',
    originalSendrecv: req.has('original-sendrecv'),
    medias: rewrites,
  });
}

const TRANSPORTS = new Set(['RTP/AVP', 'RTP/AVPF', 'RTP/SAVP', 'RTP/SAVPF', 'UDP/TLS/RTP/SAVP', 'UDP/TLS/RTP/SAVPF', 'accept']);

/** `transport protocol`: the RTP profiles rtpengine converts between, or `accept`. */
function transportProtocol(req: NgRequest): string | undefined {
  const v = req.str('transport-protocol');
  if (v === undefined || v === '') return undefined;
  if (TRANSPORTS.has(v)) return v;
  throw new NgError(`Unsupported transport protocol '${v}'`);
}

/** `DTLS`, `DTLS-reverse` and `ICE` keys. */
function webrtcOptions(req: NgRequest): WebrtcOptions {
  const d = req.str('DTLS')?.toLowerCase();
  const r = req.str('DTLS-reverse')?.toLowerCase();
  const i = req.str('ICE')?.toLowerCase();
  return {
    dtls: d === 'off' || d === 'no' || d === 'disable' || req.has('DTLS-off') ? 'off' : d === 'passive' || d === 'active' ? d : undefined,
    dtlsReverse: r === 'passive' || r === 'active' ? r : undefined,
    ice: i === 'remove' || i === 'force' || i === 'force-relay' || i === 'default' ? i : req.has('ICE-remove') ? 'remove' : req.has('ICE-force') ? 'force' : undefined,
  };
}

/** `a=ice-options:` with `trickle`, in the media section or the session. */
function trickleOf(sd: SessionDescription, m: MediaDescription): boolean {
  return [...m.lines, ...sd.sessionLines].some((l) => l.startsWith('a=ice-options:') && /\btrickle\b/.test(l));
}

/** `SDES: [off, no-<suite>, only-<suite>]` or the same as `SDES-...` flags. */
function sdesOptions(req: NgRequest): SdesOptions {
  const o = req.option('SDES');
  const no = new Set<string>();
  const only = new Set<string>();
  for (const v of o) {
    if (v.startsWith('no-')) no.add(foldSuite(v.slice(3)));
    else if (v.startsWith('only-')) only.add(foldSuite(v.slice(5)));
  }
  return { off: o.has('off'), no, only };
}

/**
 * SDES for one media section: at an offer, the crypto lines the receiver is offered; at an
 * answer, the line the offerer gets back and the keys of both sides' legs. Returns the
 * `a=crypto` lines to write (none when the receiver's side is plain).
 */
function negotiateSdes(kind: ExchangeKind, sm: Media, rm: Media, inProtocol: string, outProtocol: string, lines: ReturnType<typeof parseCrypto>, opt: SdesOptions, offererDtls: boolean): string[] {
  sm.sdes = isSrtpProtocol(inProtocol) ? lines : [];
  if (kind === 'offer') {
    sm.sdesOptions = opt;
    rm.ourSdes = isSrtpProtocol(outProtocol) ? offerCrypto(sm.sdes, rm.ourSdes, opt) : [];
    return rm.ourSdes.map(formatCrypto);
  }
  // sm answered what rm offered. The answerer's line names one of the lines offered to it.
  const their = sm.sdes[0];
  const ours = their ? sm.ourSdes.find((c) => c.tag === their.tag && c.suite === their.suite) : undefined;
  const taken = their && ours ? their : null;
  const answererCrypto = taken && ours ? { recv: keying(taken), send: keying(ours) } : null;
  let offererCrypto = null;
  const previous = rm.ourSdes;
  rm.ourSdes = [];
  if (isSrtpProtocol(outProtocol) && rm.sdes.length > 0 && !offererDtls) {
    const line = answerCrypto(rm.sdes, taken, previous, rm.sdesOptions);
    const theirs = line ? rm.sdes.find((c) => c.tag === line.tag) : undefined;
    if (line && theirs) {
      rm.ourSdes = [line];
      offererCrypto = { recv: keying(theirs), send: keying(line) };
    }
  }
  if (answererCrypto && offererCrypto) [sm.crypto, rm.crypto] = passThrough(answererCrypto, offererCrypto);
  else {
    sm.crypto = answererCrypto;
    rm.crypto = offererCrypto;
  }
  return rm.ourSdes.map(formatCrypto);
}

function familyOf(req: NgRequest): 4 | 6 | undefined {
  const af = req.str('address-family')?.toUpperCase();
  if (af === 'IP6') return 6;
  if (af === 'IP4') return 4;
  return undefined;
}
