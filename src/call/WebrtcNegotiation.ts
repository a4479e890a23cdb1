import { randomBytes } from 'node:crypto';
import type { LegCrypto } from '../media/MediaPlane.js';
import { isFingerprintHash, type FingerprintHash } from '../media/transforms/DtlsFingerprint.js';
import { dtlsIdentity } from '../media/transforms/DtlsIdentity.js';
import { hostPriority, type DtlsParams, type IceCredentials } from '../sdp/webrtc.js';
import type { Media } from './Media.js';

/** NG `DTLS`, `DTLS-reverse` and `ICE` choices of one request. */
export interface WebrtcOptions {
  /** `DTLS=off|no|disable`: no DTLS; `passive`/`active`: our role where we may choose. */
  dtls: 'off' | 'passive' | 'active' | undefined;
  /** `DTLS-reverse=passive|active`: the role towards an actpass offerer. */
  dtlsReverse: 'passive' | 'active' | undefined;
  ice: 'remove' | 'force' | 'force-relay' | 'default' | undefined;
  /** `DTLS-fingerprint`: the hash of our `a=fingerprint` towards the receiver of an offer. */
  fingerprintHash?: FingerprintHash;
}

/** What the relay writes into one media section for DTLS and ICE. */
export interface WebrtcLines {
  dtls: string[];
  ice: string[];
  /** The section needs a=ice-lite at session level. */
  iceLite: boolean;
  /** DTLS won over SDES for this party: no a=crypto answer. */
  dtlsChosen: boolean;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function token(n: number): string {
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[b[i]! % ALNUM.length];
  return s;
}

/** rtpengine's candidate foundation: one per relay process (16 characters). */
const FOUNDATION = token(16);

/** The peer side of a media (what its SDP said) and what the relay told it, kept on the Media. */
export interface WebrtcState {
  dtlsPeer: DtlsParams | null;
  ourSetup: 'actpass' | 'active' | 'passive' | null;
  /** The offerer's DTLS role preference (from its offer's flags), for the answer it gets. */
  dtlsPrefer: 'passive' | 'active' | undefined;
  icePeer: IceCredentials | null;
  trickle: boolean;
  ourIce: IceCredentials | null;
  mid: string | undefined;
  dtls: LegCrypto['dtls'];
  ice: LegCrypto['ice'];
  /** The hash of our `a=fingerprint` towards this party: chosen once, then kept (as rtpengine does). */
  fpHash: FingerprintHash | null;
}

export const newWebrtcState = (): WebrtcState => ({ dtlsPeer: null, ourSetup: null, dtlsPrefer: undefined, icePeer: null, trickle: false, ourIce: null, mid: undefined, dtls: null, ice: null, fpHash: null });

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

/** ICE-lite attributes towards a party: credentials, a host candidate per component, trickle's end marker. */
function iceLines(m: Media, w: WebrtcState, muxed: boolean): string[] {
  const ice = w.ourIce!;
  const lines = [`a=ice-ufrag:${ice.ufrag}`, `a=ice-pwd:${ice.pwd}`];
  if (w.trickle) lines.push('a=ice-options:trickle');
  const rtp = m.rtp;
  if (rtp) {
    const addr = rtp.local.advertised;
    lines.push(`a=candidate:${FOUNDATION} 1 UDP ${hostPriority(0, 1)} ${addr} ${rtp.localPort} typ host`);
    if (!muxed && m.rtcp) lines.push(`a=candidate:${FOUNDATION} 2 UDP ${hostPriority(0, 2)} ${addr} ${m.rtcp.localPort} typ host`);
  }
  if (w.trickle) lines.push('a=end-of-candidates');
  return lines;
}

function wantIce(opt: WebrtcOptions, peerIce: IceCredentials | null): boolean {
  if (opt.ice === 'remove') return false;
  if (opt.ice === 'force' || opt.ice === 'force-relay') return true;
  return peerIce !== null;
}

/**
 * At an offer: remembers the offerer's DTLS and ICE, and decides what the receiver is
 * offered: `a=setup:actpass` and our fingerprint on an SRTP profile (unless DTLS=off), and
 * ICE-lite credentials and candidates when asked or when the offerer spoke ICE.
 */
export function offerWebrtc(sm: Media, rm: Media, inSecure: boolean, outSecure: boolean, dtls: DtlsParams, ice: IceCredentials | null, trickle: boolean, midValue: string | undefined, opt: WebrtcOptions, muxed: boolean): WebrtcLines {
  const s = sm.webrtc;
  const r = rm.webrtc;
  s.dtlsPeer = inSecure && dtls.fingerprint ? dtls : null;
  // ICE restart (RFC 8445 9): new credentials from the offerer get new ones of ours in the answer.
  if (ice && s.icePeer && (ice.ufrag !== s.icePeer.ufrag || ice.pwd !== s.icePeer.pwd)) s.ourIce = null;
  s.icePeer = ice;
  s.trickle = trickle;
  s.mid = midValue;
  s.dtlsPrefer = opt.dtlsReverse ?? (opt.dtls === 'passive' || opt.dtls === 'active' ? opt.dtls : undefined);
  const fp = outSecure && opt.dtls !== 'off' ? fingerprintLine(r, opt.fingerprintHash) : null;
  r.ourSetup = fp ? 'actpass' : null;
  const out: WebrtcLines = { dtls: r.ourSetup && fp ? ['a=setup:actpass', fp] : [], ice: [], iceLite: false, dtlsChosen: false };
  offerIce(rm, out, wantIce(opt, ice), muxed);
  return out;
}

/**
 * At an answer (sm answered what rm offered): the answerer's DTLS role follows its a=setup
 * towards our actpass; the offerer gets `a=setup:active` (we connect) for actpass or passive,
 * `passive` for active, or what DTLS=passive / DTLS-reverse asked; ICE-lite back to an ICE
 * offerer unless ICE=remove.
 */
export function answerWebrtc(sm: Media, rm: Media, outSecure: boolean, dtls: DtlsParams, ice: IceCredentials | null, answererTookSdes: boolean, opt: WebrtcOptions, muxed: boolean): WebrtcLines {
  const s = sm.webrtc;
  const r = rm.webrtc;
  s.dtlsPeer = dtls.fingerprint ? dtls : null;
  s.icePeer = ice;
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
  offerIce(rm, out, wantIce(opt, r.icePeer), muxed);
  return out;
}

/** ICE-lite towards rm's party (credentials kept across re-INVITEs), or none. */
function offerIce(rm: Media, out: WebrtcLines, want: boolean, muxed: boolean): void {
  const r = rm.webrtc;
  if (want) {
    r.ourIce ??= { ufrag: token(8), pwd: token(26) };
    r.ice = r.ourIce;
    out.ice = iceLines(rm, r, muxed);
    out.iceLite = true;
  } else {
    r.ourIce = null;
    r.ice = null;
    // rtpengine 10.5 still tells a trickling party that there are no (more) candidates.
    if (r.trickle) out.ice = ['a=ice-options:trickle', 'a=end-of-candidates'];
  }
}
