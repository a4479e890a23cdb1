import { randomBytes } from 'node:crypto';
import type { IcePair, LegCrypto } from '../media/MediaPlane.js';
import { isFingerprintHash, type FingerprintHash } from '../media/transforms/DtlsFingerprint.js';
import { dtlsIdentity } from '../media/transforms/DtlsIdentity.js';
import { icePriority, passthroughPreference, type DtlsParams, type IceCredentials, type SdpCandidate } from '../sdp/webrtc.js';
import type { IceSettings } from '../media/transforms/IceAgent.js';
import type { Media } from './Media.js';
import type { AlternatePort, Stream } from './Stream.js';

/** NG `DTLS`, `DTLS-reverse` and `ICE` choices of one request. */
export interface WebrtcOptions {
  /** `DTLS=off|no|disable`: no DTLS; `passive`/`active`: our role where we may choose. */
  dtls: 'off' | 'passive' | 'active' | undefined;
  /** `DTLS-reverse=passive|active`: the role towards an actpass offerer. */
  dtlsReverse: 'passive' | 'active' | undefined;
  ice: 'remove' | 'force' | 'force-relay' | 'default' | 'optional' | undefined;
  /** `ICE-lite`: which side the relay is a lite agent towards (forward: the offer's receiver). */
  iceLite: 'forward' | 'backward' | 'both' | 'off' | undefined;
  /** `DTLS-fingerprint`: the hash of our `a=fingerprint` towards the receiver of an offer. */
  fingerprintHash?: FingerprintHash;
  /** `media address`: the address the relay's candidates name in place of their own. */
  advertise?: string;
  /** `trickle ICE` (offers): the receiver is told the relay trickles (`a=ice-options:trickle`, `a=end-of-candidates`). */
  trickle?: boolean;
}

/** What a party's SDP said about ICE. */
export interface IceOffer {
  credentials: IceCredentials | null;
  candidates: SdpCandidate[];
  /** `a=ice-lite`: the party is a lite agent, so the relay controls. */
  lite: boolean;
}

/** The ICE of one media towards its party, for each of its legs (they add their component and its candidates). */
export type MediaIce = Omit<IceSettings, 'component' | 'candidates'>;

/** What the relay writes into one media section for DTLS and ICE. */
export interface WebrtcLines {
  dtls: string[];
  ice: string[];
  /** The section needs a=ice-lite at session level. */
  iceLite: boolean;
  /** DTLS won over SDES for this party: no a=crypto answer. */
  dtlsChosen: boolean;
  /** ICE passes through: the sender's own ICE lines stay in the SDP. */
  icePassthrough?: boolean;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function token(n: number): string {
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[b[i]! % ALNUM.length];
  return s;
}

/** rtpengine's candidate foundations: one per local address and relay process (16 characters). */
const foundations = new Map<string, string>();
function foundationOf(address: string): string {
  let f = foundations.get(address);
  if (f === undefined) {
    f = token(16);
    foundations.set(address, f);
  }
  return f;
}

/** Where the relay's candidates' priorities start: host type 126 at local preference 0, or below a passthrough party's own. */
interface CandidatePreference {
  typePref: number;
  localPref: number;
}
const HOST: CandidatePreference = { typePref: 126, localPref: 0 };

/** A stream's local candidates: its own address first, then its ICE alternates (local preference counting up in that order). */
const localCandidates = (st: Stream): AlternatePort[] => [{ local: st.local, port: st.localPort }, ...st.alternates];

function candidateLine(a: AlternatePort, localPref: number, component: 1 | 2, pref: CandidatePreference, advertise: string | undefined): string {
  return `a=candidate:${foundationOf(a.local.address)} ${component} UDP ${icePriority(pref.typePref, pref.localPref + localPref, component)} ${advertise ?? a.local.advertised} ${a.port} typ host`;
}

/** A stream's host candidates. */
function candidateLines(st: Stream, component: 1 | 2, pref: CandidatePreference, advertise: string | undefined): string[] {
  return localCandidates(st).map((a, i) => candidateLine(a, i, component, pref, advertise));
}

/** A stream's nominated pair under the relay's credentials `ufrag` and the index of its local candidate (null: none, or not nominated). */
function nominatedIndex(st: Stream | null, ufrag: string): { pair: IcePair; index: number } | null {
  const p = st?.leg?.icePair ?? null;
  if (st === null || p === null || !p.nominated || p.ufrag !== ufrag) return null;
  const index = localCandidates(st).findIndex((a) => a.local.address === p.local);
  return index < 0 ? null : { pair: p, index };
}

/**
 * rtpengine once ICE towards the party completed (a nominated pair for RTP and, unless muxed,
 * for RTCP when the party listed RTCP candidates): only the selected local candidates, both at
 * the RTP pair's local preference, and in an offer while controlling `a=remote-candidates` with
 * the party's side of each pair. Null while not complete.
 */
function completedLines(m: Media, w: WebrtcState, muxed: boolean, offer: boolean, advertise: string | undefined): string[] | null {
  const ufrag = w.ourIce!.ufrag;
  const rtp = nominatedIndex(m.rtp, ufrag);
  if (rtp === null || m.rtp === null) return null;
  const rtcpActive = !m.muxed && m.rtcp !== null && w.iceCandidates.some((c) => c.component === 2);
  const rtcp = rtcpActive ? nominatedIndex(m.rtcp, ufrag) : null;
  if (rtcpActive && rtcp === null) return null;
  const lines = [candidateLine(localCandidates(m.rtp)[rtp.index]!, rtp.index, 1, HOST, advertise)];
  if (!muxed && m.rtcp) {
    // RTCP without ICE of its own (the party listed no RTCP candidates) names its own address.
    const own = localCandidates(m.rtcp);
    lines.push(candidateLine(own[rtcp?.index ?? 0]!, rtp.index, 2, HOST, advertise));
  }
  if (offer && w.iceControlling === true) {
    const pairs = rtcp === null ? [rtp.pair] : [rtp.pair, rtcp.pair];
    lines.push(`a=remote-candidates:${pairs.map((p, i) => `${i + 1} ${p.address} ${p.port}`).join(' ')}`);
  }
  return lines;
}

/** The peer side of a media (what its SDP said) and what the relay told it, kept on the Media. */
export interface WebrtcState {
  dtlsPeer: DtlsParams | null;
  ourSetup: 'actpass' | 'active' | 'passive' | null;
  /** The offerer's DTLS role preference (from its offer's flags), for the answer it gets. */
  dtlsPrefer: 'passive' | 'active' | undefined;
  icePeer: IceCredentials | null;
  /** The party's candidates, from its latest SDP. */
  iceCandidates: SdpCandidate[];
  /** The party is an ICE-lite agent. */
  iceLitePeer: boolean;
  /** The relay is the lite side towards the party (`ICE-lite` option). */
  iceLiteSelf: boolean;
  /** The relay's role towards the party, decided once (and again at an ICE restart); null before. */
  iceControlling: boolean | null;
  /** Whether the party is offered ICE, as decided at the first offer it received (null before). */
  iceWanted: boolean | null;
  trickle: boolean;
  /**
   * ICE passes through (`ICE=optional` with ICE on both sides, as rtpengine's passthrough): the
   * party gets its peer's own ICE lines and the relay's candidates below them, and the relay
   * runs no agent; its ports relay STUN like media. Kept for the call, as rtpengine keeps it.
   */
  icePassthrough: boolean;
  ourIce: IceCredentials | null;
  mid: string | undefined;
  dtls: LegCrypto['dtls'];
  ice: MediaIce | null;
  /** The hash of our `a=fingerprint` towards this party: chosen once, then kept (as rtpengine does). */
  fpHash: FingerprintHash | null;
}

export const newWebrtcState = (): WebrtcState => ({
  dtlsPeer: null, ourSetup: null, dtlsPrefer: undefined, icePeer: null, iceCandidates: [], iceLitePeer: false, iceLiteSelf: false, iceControlling: null, iceWanted: null,
  trickle: false, icePassthrough: false, ourIce: null, mid: undefined, dtls: null, ice: null, fpHash: null,
});

/**
 * A party's ICE from its SDP; new credentials are an ICE restart (RFC 8445 9), which gets new
 * credentials of ours and decides the role again.
 */
function takeIce(w: WebrtcState, ice: IceOffer): void {
  const c = ice.credentials;
  if (c && w.icePeer && (c.ufrag !== w.icePeer.ufrag || c.pwd !== w.icePeer.pwd)) {
    w.ourIce = null;
    w.iceControlling = null;
  }
  w.icePeer = c;
  w.iceCandidates = ice.candidates;
  w.iceLitePeer = ice.lite;
}

/**
 * rtpengine's roles: the relay controls towards a lite peer (unless it is lite itself), is
 * controlled as the lite side, and otherwise mirrors the SIP roles: controlled towards the
 * offerer, controlling towards the answerer.
 */
function decideRole(w: WebrtcState, answerer: boolean): void {
  if (w.iceLitePeer && !w.iceLiteSelf) w.iceControlling = true;
  else w.iceControlling ??= w.iceLiteSelf ? false : answerer;
}

/**
 * Our `a=fingerprint` towards a party: under the hash used before, else the one asked for
 * (`DTLS-fingerprint`, offers only), else the party's own fingerprint's hash, else sha-256.
 */
function fingerprintLine(w: WebrtcState, asked?: FingerprintHash): string | null {
  const id = dtlsIdentity();
  if (!id) return null;
  const peer = w.dtlsPeer?.fingerprint?.hash;
  const hash = w.fpHash ?? asked ?? (peer !== undefined && isFingerprintHash(peer) ? peer : 'sha-256');
  w.fpHash = hash;
  return `a=fingerprint:${hash} ${id.fingerprints[hash]}`;
}

/**
 * ICE attributes towards a party: credentials, host candidates per component, trickle's end
 * marker; passing through, only the relay's candidates (below `peer`'s own, which the SDP keeps).
 */
function iceLines(m: Media, w: WebrtcState, muxed: boolean, peer: WebrtcState, offer: boolean, advertise: string | undefined): string[] {
  const ice = w.ourIce!;
  const lines = w.icePassthrough ? [] : [`a=ice-ufrag:${ice.ufrag}`, `a=ice-pwd:${ice.pwd}`];
  if (w.trickle) lines.push('a=ice-options:trickle');
  const pref = w.icePassthrough ? passthroughPreference(peer.iceCandidates) : HOST;
  const completed = w.icePassthrough ? null : completedLines(m, w, muxed, offer, advertise);
  if (completed !== null) lines.push(...completed);
  else if (m.rtp) {
    lines.push(...candidateLines(m.rtp, 1, pref, advertise));
    if (!muxed && m.rtcp) lines.push(...candidateLines(m.rtcp, 2, pref, advertise));
  }
  if (w.trickle) lines.push('a=end-of-candidates');
  return lines;
}

/**
 * ICE towards an offer's receiver: asked for (`force`, `force-relay`, `optional`), removed, or
 * by default what was decided at the first offer, which follows the offerer (rtpengine keeps
 * the first decision for re-offers).
 */
function wantIceInOffer(opt: WebrtcOptions, r: WebrtcState, offererIce: IceCredentials | null): boolean {
  if (opt.ice === 'remove') return false;
  if (opt.ice === 'force' || opt.ice === 'force-relay' || opt.ice === 'optional') return true;
  return r.iceWanted ?? offererIce !== null;
}

/** ICE back to the offerer: unless removed, when it spoke ICE; passing through, only when the answerer did too. */
function wantIceInAnswer(opt: WebrtcOptions, offererIce: IceCredentials | null, answererIce: IceCredentials | null, passthrough: boolean): boolean {
  if (opt.ice === 'remove') return false;
  if (opt.ice === 'force' || opt.ice === 'force-relay') return true;
  if (passthrough) return offererIce !== null && answererIce !== null;
  return offererIce !== null;
}

/**
 * At an offer: remembers the offerer's DTLS and ICE, and decides what the receiver is
 * offered: `a=setup:actpass` and our fingerprint on an SRTP profile (unless DTLS=off), and
 * ICE credentials and candidates when asked or when the offerer spoke ICE.
 */
export function offerWebrtc(sm: Media, rm: Media, inSecure: boolean, outSecure: boolean, dtls: DtlsParams, ice: IceOffer, trickle: boolean, midValue: string | undefined, opt: WebrtcOptions, muxed: boolean): WebrtcLines {
  const s = sm.webrtc;
  const r = rm.webrtc;
  s.dtlsPeer = inSecure && dtls.fingerprint ? dtls : null;
  takeIce(s, ice);
  if (opt.iceLite !== undefined) {
    r.iceLiteSelf = opt.iceLite === 'forward' || opt.iceLite === 'both';
    s.iceLiteSelf = opt.iceLite === 'backward' || opt.iceLite === 'both';
  }
  decideRole(s, false);
  decideRole(r, true);
  s.trickle = trickle;
  s.mid = midValue;
  s.dtlsPrefer = opt.dtlsReverse ?? (opt.dtls === 'passive' || opt.dtls === 'active' ? opt.dtls : undefined);
  // Like rtpengine, the relay connects to an offerer that can be the DTLS server as soon as its
  // offer is in, before the answer: the answer keeps that role, or turns DTLS off for SDES.
  const peer = s.dtlsPeer;
  if (peer && s.dtls === null && opt.dtls !== 'off' && s.dtlsPrefer !== 'passive' && (peer.setup === 'actpass' || peer.setup === 'passive') && dtlsIdentity() !== null) {
    s.dtls = { role: 'client', fingerprint: peer.fingerprint };
  }
  const fp = outSecure && opt.dtls !== 'off' ? fingerprintLine(r, opt.fingerprintHash) : null;
  r.ourSetup = fp ? 'actpass' : null;
  const out: WebrtcLines = { dtls: r.ourSetup && fp ? ['a=setup:actpass', fp] : [], ice: [], iceLite: false, dtlsChosen: false };
  if (opt.trickle) r.trickle = true;
  if (opt.ice === 'optional' && ice.credentials !== null) s.icePassthrough = r.icePassthrough = true;
  r.iceWanted = wantIceInOffer(opt, r, ice.credentials);
  offerIce(rm, sm, out, r.iceWanted, muxed, true, opt.advertise);
  return out;
}

/**
 * At an answer (sm answered what rm offered): the answerer's DTLS role follows its a=setup
 * towards our actpass; the offerer gets `a=setup:active` (we connect) for actpass or passive,
 * `passive` for active, or what DTLS=passive / DTLS-reverse asked; ICE back to an ICE
 * offerer unless ICE=remove.
 */
export function answerWebrtc(sm: Media, rm: Media, outSecure: boolean, dtls: DtlsParams, ice: IceOffer, answererTookSdes: boolean, opt: WebrtcOptions, muxed: boolean): WebrtcLines {
  const s = sm.webrtc;
  const r = rm.webrtc;
  s.dtlsPeer = dtls.fingerprint ? dtls : null;
  takeIce(s, ice);
  decideRole(s, true);
  if (opt.ice === 'optional' && ice.credentials !== null && r.icePeer !== null) s.icePassthrough = r.icePassthrough = true;
  // An answer without ICE declines it: no agent, and re-offers to this party go without ICE.
  s.iceWanted = ice.credentials !== null;
  s.ice = s.ourIce && ice.credentials && !s.icePassthrough ? mediaIce(s) : null;
  // The answerer's side.
  if (s.ourSetup && s.dtlsPeer && !answererTookSdes) {
    s.dtls = { role: s.dtlsPeer.setup === 'passive' ? 'client' : 'server', fingerprint: s.dtlsPeer.fingerprint };
  } else s.dtls = null;
  // The offerer's side.
  const out: WebrtcLines = { dtls: [], ice: [], iceLite: false, dtlsChosen: false };
  const fp = r.dtlsPeer && outSecure && opt.dtls !== 'off' ? fingerprintLine(r) : null;
  if (r.dtlsPeer && fp) {
    const peer = r.dtlsPeer.setup;
    const role = peer === 'active' ? 'server' : peer === 'passive' ? 'client' : r.dtlsPrefer === 'passive' ? 'server' : 'client';
    r.ourSetup = role === 'client' ? 'active' : 'passive';
    r.dtls = { role, fingerprint: r.dtlsPeer.fingerprint };
    out.dtls = [`a=setup:${r.ourSetup}`, fp];
    out.dtlsChosen = true;
  } else {
    r.ourSetup = null;
    r.dtls = null;
  }
  // As rtpengine: what the offerer is answered with is what later offers to it get by default
  // (a re-INVITE from the other side keeps ICE towards an ICE offerer).
  r.iceWanted = wantIceInAnswer(opt, r.icePeer, s.icePeer, r.icePassthrough);
  offerIce(rm, sm, out, r.iceWanted, muxed, false, opt.advertise);
  return out;
}

function mediaIce(w: WebrtcState): MediaIce {
  return { ufrag: w.ourIce!.ufrag, pwd: w.ourIce!.pwd, remote: w.icePeer, controlling: w.iceControlling ?? false, lite: w.iceLiteSelf };
}

/** ICE towards rm's party (credentials kept across re-INVITEs), or none; sm is the media its SDP comes from; `offer`: the SDP is an offer. */
function offerIce(rm: Media, sm: Media, out: WebrtcLines, want: boolean, muxed: boolean, offer: boolean, advertise: string | undefined): void {
  const r = rm.webrtc;
  if (want) {
    r.ourIce ??= { ufrag: token(8), pwd: token(26) };
    r.ice = r.icePassthrough ? null : mediaIce(r);
    out.ice = iceLines(rm, r, muxed, sm.webrtc, offer, advertise);
    out.icePassthrough = r.icePassthrough;
    out.iceLite = r.iceLiteSelf;
  } else {
    r.ourIce = null;
    r.ice = null;
    // rtpengine 10.5 still tells a trickling party that there are no (more) candidates.
    if (r.trickle) out.ice = ['a=ice-options:trickle', 'a=end-of-candidates'];
  }
}
