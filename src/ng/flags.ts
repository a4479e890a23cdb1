import { isIP } from 'node:net';
import type { BundleOptions, MediaEcho, OfferAnswerOptions, ReplaceOption, RtcpMuxOption, TransportChoice } from '../call/OfferAnswerOptions.js';
import type { LearningMode } from '../media/MediaPlane.js';
import type { CodecOptions } from '../sdp/CodecOptions.js';
import { foldSuite, type OsrtpOptions, type SdesOptions } from '../call/SdesNegotiation.js';
import { isFingerprintHash, type FingerprintHash } from '../media/transforms/DtlsFingerprint.js';
import type { WebrtcOptions } from '../call/WebrtcNegotiation.js';
import { NgError, NgErrorText } from './errors.js';
import { normalise, type NgRequest, type NgValue } from './NgRequest.js';

/**
 * Parses the NG keys and flags of an offer or answer once, at the boundary, into the typed
 * options the call model takes (rtpengine's `sdp_ng_flags`). The checks come in rtpengine's
 * order (sdp, call-id, from-tag, to-tag), then the values the relay cannot honour are refused
 * here, before anything about the call changes.
 */
export type Opmode = 'offer' | 'answer';

const RTCP_MUX = new Set<string>(['offer', 'require', 'demux', 'accept', 'reject']);
const REPLACE = new Map<string, ReplaceOption>([
  ['origin', 'origin'],
  ['session-connection', 'session-connection'],
  ['sdp-version', 'sdp-version'],
  ['force-increment-sdp-ver', 'sdp-version'],
  ['session-name', 'session-name'],
  ['username', 'username'],
  ['zero-address', 'zero-address'],
]);
const LEARNING = new Map<string, LearningMode>([['off', 'off'], ['immediate', 'immediate'], ['delayed', 'delayed'], ['heuristic', 'heuristic']]);
const ECHO = new Map<string, MediaEcho>([
  ['blackhole', 'blackhole'], ['sinkhole', 'blackhole'],
  ['forward', 'forward'], ['fwd', 'forward'], ['fw', 'forward'],
  ['backward', 'backwards'], ['backwards', 'backwards'], ['reverse', 'backwards'], ['back', 'backwards'], ['bkw', 'backwards'], ['bk', 'backwards'],
  ['both', 'both'],
]);

/** Codec operations and the flag prefixes that add to them; the ones marked offerOnly are read in an offer only (10.5). */
const CODEC_OPS: readonly { key: keyof CodecOptions; prefixes: string[]; offerOnly: boolean }[] = [
  { key: 'strip', prefixes: ['codec-strip-'], offerOnly: false },
  { key: 'offer', prefixes: ['codec-offer-'], offerOnly: false },
  { key: 'except', prefixes: ['codec-except-'], offerOnly: false },
  { key: 'transcode', prefixes: ['transcode-', 'codec-transcode-'], offerOnly: true },
  { key: 'mask', prefixes: ['codec-mask-'], offerOnly: true },
  { key: 'set', prefixes: ['codec-set-'], offerOnly: true },
  { key: 'accept', prefixes: ['codec-accept-'], offerOnly: true },
  { key: 'consume', prefixes: ['codec-consume-'], offerOnly: true },
];

/** The codec flag prefixes a command reads: an answer only strip, offer and except. */
export const codecFlagPrefixes = (op: Opmode): string[] => CODEC_OPS.filter((o) => op === 'offer' || !o.offerOnly).flatMap((o) => o.prefixes);

/** Strings of a list value (a single string counts as a one-element list), as they came. */
function strings(v: NgValue | undefined): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string') return [v];
  return [];
}

/** The `codec` dictionary plus the `codec-…` flags. Codec names keep their case (flags are folded). */
function codecOptions(req: NgRequest, op: Opmode): CodecOptions {
  const dict = req.raw('codec');
  const inDict = new Map<string, NgValue>();
  if (dict && typeof dict === 'object' && !Array.isArray(dict)) for (const [k, v] of Object.entries(dict)) inDict.set(normalise(k), v);
  const out = { strip: [], offer: [], except: [], transcode: [], mask: [], set: [], accept: [], consume: [] } as { [K in keyof CodecOptions]: string[] };
  for (const { key, prefixes, offerOnly } of CODEC_OPS) {
    if (offerOnly && op !== 'offer') continue;
    out[key].push(...strings(inDict.get(key)));
    for (const f of req.rawFlags) {
      const n = normalise(f);
      const p = prefixes.find((x) => n.startsWith(x));
      if (p) out[key].push(f.slice(p.length));
    }
  }
  // `always transcode` is 10.5's `codec-accept-all`.
  if (op === 'offer' && req.has('always-transcode')) out.accept.push('all');
  return out;
}

const TRANSPORTS: readonly TransportChoice[] = ['RTP/AVP', 'RTP/AVPF', 'RTP/SAVP', 'RTP/SAVPF', 'UDP/TLS/RTP/SAVP', 'UDP/TLS/RTP/SAVPF'];
/** Names rtpengine 10.5 knows besides those (T.38's, its placeholder) and ngrelay cannot switch to. */
const REFUSED_TRANSPORTS = new Set(['udptl', 'unknown (legacy)']);

/**
 * `transport protocol`: the RTP profiles rtpengine converts between (any case), or `accept`. A
 * name rtpengine 10.5 does not know leaves the profile alone, as there.
 */
function transport(req: NgRequest): TransportChoice | undefined {
  const v = req.str('transport-protocol');
  if (v === undefined || v === '') return undefined;
  if (v === 'accept') return 'accept';
  const known = TRANSPORTS.find((t) => t.toLowerCase() === v.toLowerCase());
  if (known) return known;
  if (REFUSED_TRANSPORTS.has(v.toLowerCase())) throw new NgError(`Unsupported transport protocol '${v}'`);
  return undefined;
}

/** `SDES: [off, no-<suite>, only-<suite>, static, pad, lifetime]` (a list) or the same as `SDES-...` flags. */
function sdesOptions(req: NgRequest): SdesOptions {
  // rtpengine 10.5 reads `SDES` only as a list: a plain string (`SDES: off`) changes nothing.
  const o = req.option('SDES', true);
  const no = new Set<string>();
  const only = new Set<string>();
  for (const v of o) {
    if (v.startsWith('no-')) no.add(foldSuite(v.slice(3)));
    else if (v.startsWith('only-')) only.add(foldSuite(v.slice(5)));
  }
  return {
    off: o.has('off') || o.has('no') || o.has('disable') || o.has('disabled'),
    no,
    only,
    static: o.has('static'),
    format: { pad: o.has('pad') || req.has('pad-crypto'), lifetime: o.has('lifetime') },
  };
}

/** `OSRTP: [offer, accept]` or `OSRTP-offer`, `OSRTP-accept`. */
function osrtpOptions(req: NgRequest): OsrtpOptions {
  const o = req.option('OSRTP');
  return { offer: o.has('offer'), accept: o.has('accept') };
}

/** `DTLS-fingerprint`: the hash of the relay's `a=fingerprint` (rtpengine's names, any case). */
function fingerprintHash(req: NgRequest): FingerprintHash | undefined {
  const v = req.str('DTLS-fingerprint')?.toLowerCase();
  return v !== undefined && isFingerprintHash(v) ? v : undefined;
}

/** rtpengine's words for each `ICE-lite` choice. */
const ICE_LITE = new Map<string, WebrtcOptions['iceLite']>([
  ...['off', 'none', 'no'].map((w) => [w, 'off'] as const),
  ...['forward', 'offer', 'fwd', 'fw'].map((w) => [w, 'forward'] as const),
  ...['backward', 'backwards', 'reverse', 'answer', 'back', 'bkw', 'bk'].map((w) => [w, 'backward'] as const),
  ['both', 'both'],
]);

/** `DTLS`, `DTLS-reverse` and `ICE` keys (or `DTLS-off`, `ICE-remove`, `ICE-force`, `trickle ICE` flags). */
function webrtcOptions(req: NgRequest): WebrtcOptions {
  const d = req.str('DTLS')?.toLowerCase();
  const r = req.str('DTLS-reverse')?.toLowerCase();
  const i = req.str('ICE')?.toLowerCase();
  const l = (req.str('ICE-lite') ?? req.str('ice-lite') ?? req.str('ICE lite') ?? req.str('ice lite'))?.toLowerCase();
  return {
    dtls: d === 'off' || d === 'no' || d === 'disable' || req.has('DTLS-off') ? 'off' : d === 'passive' || d === 'active' ? d : undefined,
    dtlsReverse: r === 'passive' || r === 'active' ? r : undefined,
    fingerprintHash: fingerprintHash(req),
    ice: i === 'remove' || i === 'force' || i === 'force-relay' || i === 'default' || i === 'optional' ? i : req.has('ICE-remove') ? 'remove' : req.has('ICE-force') ? 'force' : undefined,
    iceLite: l === undefined ? undefined : ICE_LITE.get(l),
    trickle: req.has('trickle-ICE'),
  };
}

function family(req: NgRequest): 4 | 6 | undefined {
  const af = req.str('address-family')?.toUpperCase();
  if (af === 'IP6') return 6;
  if (af === 'IP4') return 4;
  return undefined;
}

function learning(req: NgRequest): LearningMode | undefined {
  const key = req.str('endpoint-learning');
  if (key !== undefined && LEARNING.has(key)) return LEARNING.get(key);
  for (const [name, mode] of LEARNING) if (req.has(`endpoint-learning-${name}`)) return mode;
  return undefined;
}

function sipSource(req: NgRequest): string | undefined {
  if (!req.has('sip-source-address')) return undefined;
  const rf = req.rawList('received-from');
  return rf.length === 2 && isIP(rf[1]!) ? rf[1] : undefined;
}

/** An integer key as rtpengine reads it: a number, or a string's leading digits, else 0. */
function integer(req: NgRequest, key: string): number | undefined {
  const v = req.raw(key);
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'string') return Number.parseInt(v, 10) || 0;
  return undefined;
}

export function parseOfferAnswer(req: NgRequest, op: Opmode): OfferAnswerOptions {
  const sdp = req.sdp;
  if (!sdp) throw new NgError(NgErrorText.noSdp);
  const callId = req.callId;
  if (!callId) throw new NgError(NgErrorText.noCallId);
  const fromTag = req.fromTag;
  if (!fromTag) throw new NgError(NgErrorText.noFromTag);
  const toTag = req.toTag;
  if (op === 'answer' && !toTag) throw new NgError(NgErrorText.noToTag);
  const rtcpMux = new Set<RtcpMuxOption>();
  for (const o of req.option('rtcp-mux')) if (RTCP_MUX.has(o)) rtcpMux.add(o as RtcpMuxOption);
  const replace = new Set<ReplaceOption>();
  for (const o of req.option('replace')) {
    const r = REPLACE.get(o);
    if (r) replace.add(r);
  }
  const mediaAddressKey = req.str('media-address');
  const mediaAddress = mediaAddressKey && isIP(mediaAddressKey) ? mediaAddressKey : undefined;
  const recordCall = req.str('record-call');
  const echo = req.str('media-echo');
  const ptime = op === 'offer' ? integer(req, 'ptime') : undefined;
  const ptimeReverse = op === 'offer' ? (integer(req, 'ptime-reverse') ?? integer(req, 'reverse-ptime')) : undefined;
  return {
    callId,
    fromTag,
    toTag,
    viaBranch: req.viaBranch,
    sdp,
    label: req.str('label') ?? req.str('from-label'),
    direction: req.rawList('direction'),
    addressFamily: family(req),
    mediaAddress,
    sipSourceAddress: sipSource(req),
    transport: transport(req),
    rtcpMux,
    replace,
    learning: learning(req),
    strictSource: req.has('strict-source'),
    mediaHandover: req.has('media-handover'),
    asymmetric: req.has('symmetric') ? false : req.has('asymmetric') ? true : undefined,
    rtcpAttribute: req.has('no-rtcp-attribute') ? 'none' : req.has('full-rtcp-attribute') ? 'full' : 'short',
    originalSendrecv: req.has('original-sendrecv'),
    recordCall: req.has('record-call') || recordCall === 'yes' || recordCall === 'on',
    loopProtect: req.has('loop-protect'),
    fragment: req.has('fragment'),
    codec: codecOptions(req, op),
    singleCodec: req.has('single-codec'),
    reuseCodecs: req.has('reuse-codecs') || req.has('no-codec-renegotiation'),
    ptime: ptime || undefined,
    ptimeReverse: ptimeReverse || undefined,
    mediaEcho: echo === undefined ? undefined : ECHO.get(echo.toLowerCase()),
    sdes: sdesOptions(req),
    osrtp: osrtpOptions(req),
    webrtc: { ...webrtcOptions(req), advertise: mediaAddress },
    bundle: bundleOptions(req),
    generateMid: req.has('generate-mid'),
    stripExtmap: req.has('strip-extmap'),
    noPortLatching: req.has('no-port-latching'),
  };
}

/** The `bundle` list (also as `bundle-...` flags). */
function bundleOptions(req: NgRequest): BundleOptions {
  const b = req.option('bundle');
  const reject = b.has('reject');
  return { accept: !reject && b.has('accept'), offer: !reject && (b.has('offer') || b.has('require')), reject };
}
