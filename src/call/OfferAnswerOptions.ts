import type { LearningMode } from '../media/MediaPlane.js';
import type { CodecOptions } from '../sdp/CodecOptions.js';
import type { OsrtpOptions, SdesOptions } from './SdesNegotiation.js';
import type { WebrtcOptions } from './WebrtcNegotiation.js';

/**
 * What an offer or an answer asks of the relay, parsed once from the NG request (rtpengine's
 * `sdp_ng_flags`). The call model reads this and never the wire: `ng/flags.ts` builds it.
 */

export type RtcpMuxOption = 'offer' | 'require' | 'demux' | 'accept' | 'reject';
export type ReplaceOption = 'origin' | 'session-connection' | 'sdp-version' | 'session-name' | 'username' | 'zero-address';
export type TransportChoice = 'RTP/AVP' | 'RTP/AVPF' | 'RTP/SAVP' | 'RTP/SAVPF' | 'UDP/TLS/RTP/SAVP' | 'UDP/TLS/RTP/SAVPF' | 'accept';
/** `media echo`: `blackhole` drops what a side sends, `forward`/`backwards`/`both` send it back to it. */
export type MediaEcho = 'blackhole' | 'forward' | 'backwards' | 'both';

export interface OfferAnswerOptions {
  callId: string;
  fromTag: string;
  toTag?: string;
  viaBranch?: string;
  sdp: string;
  /** `label` / `from-label`. */
  label?: string;
  /** `direction`: logical interface names [from side, to side]. */
  direction: string[];
  /** `address family`: the family of the SDP the relay sends on. */
  addressFamily?: 4 | 6;
  /** `media address`: the address the relay writes in its SDP (c=, a=rtcp, candidates) in place of its own, as rtpengine 10.5 does. */
  mediaAddress?: string;
  /** `received from` address, used with flag `SIP source address`. */
  sipSourceAddress?: string;
  transport?: TransportChoice;
  rtcpMux: ReadonlySet<RtcpMuxOption>;
  replace: ReadonlySet<ReplaceOption>;
  learning?: LearningMode;
  strictSource: boolean;
  mediaHandover: boolean;
  /** true: `asymmetric`; false: `symmetric`; undefined: as before. */
  asymmetric?: boolean;
  rtcpAttribute: 'short' | 'full' | 'none';
  originalSendrecv: boolean;
  recordCall: boolean;
  /** `loop protect`: an SDP that already went through this relay is returned unchanged. */
  loopProtect: boolean;
  /** `fragment`: the SDP is a trickle ICE fragment (new candidates of the sender), not an offer. */
  fragment: boolean;
  codec: CodecOptions;
  /** `single-codec`: the answer to the offerer lists one audio codec. */
  singleCodec: boolean;
  /** `reuse-codecs` / `no-codec-renegotiation`: a re-offer keeps the codec lists as negotiated. */
  reuseCodecs: boolean;
  ptime?: number;
  ptimeReverse?: number;
  mediaEcho?: MediaEcho;
  /** `SDES` list / `SDES-...` flags. */
  sdes: SdesOptions;
  /** `OSRTP` list / `OSRTP-...` flags. */
  osrtp: OsrtpOptions;
  /** `DTLS`, `DTLS-reverse`, `ICE`. */
  webrtc: WebrtcOptions;
  /** `bundle` list (RFC 9143), in later rtpengine's words. */
  bundle: BundleOptions;
  /** Flag `generate mid`: an a=mid for every section the offer passes on without one. */
  generateMid: boolean;
  /** Flag `strip extmap`: no a=extmap lines in the SDP passed on. */
  stripExtmap: boolean;
  /** Flag `no port latching`: an ICE offerer that moved its endpoint gets its receiver new ports (and ICE credentials), as rtpengine does. */
  noPortLatching: boolean;
}

/**
 * None (rtpengine 10.5): the sender's groups never pass on, every m= line has its own port.
 * `accept`: a bundled offer is answered bundled, its group on one port;
 * `offer` (`require`): the offer passed on bundles every relayed m= line on one port;
 * `reject`: no bundle towards either party, groups negotiated before are broken up.
 */
export interface BundleOptions {
  accept: boolean;
  offer: boolean;
  reject: boolean;
}
