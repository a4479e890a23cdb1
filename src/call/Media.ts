import type { PlaybackSettings } from '../media/engine/PlaybackSettings.js';
import type { TranscodeSettings } from '../media/engine/TranscodeSettings.js';
import type { LegCrypto } from '../media/MediaPlane.js';
import type { SdesCrypto } from '../sdp/crypto.js';
import type { Codec } from '../sdp/codecs.js';
import type { CodecStore } from '../sdp/CodecStore.js';
import type { Direction } from '../sdp/SessionDescription.js';
import { BranchMux } from './BranchMux.js';
import { DEFAULT_SDES, type SdesOptions } from './SdesNegotiation.js';
import { newWebrtcState, type WebrtcState } from './WebrtcNegotiation.js';
import type { Monologue } from './Monologue.js';
import type { FilePlayRecord } from './Playback.js';
import type { Stream } from './Stream.js';

/** Where a party's media goes instead of to its peer (`media echo`). */
export type MediaEchoMode = 'echo' | 'blackhole';

/** One m= line of a party: what it negotiated and the streams the relay holds for it. */
export class Media {
  type = 'audio';
  protocol = 'RTP/AVP';
  formats: string[] = [];
  codecs: string[] = [];
  direction: Direction = 'sendrecv';
  /** The party's SDP said a=rtcp-mux. */
  rtcpMux = false;
  /** RTCP shares the RTP port towards this party. */
  muxed = false;
  /** For an offerer: whether the answer accepts its rtcp-mux regardless of the answerer (null: follow it). */
  muxInAnswer: boolean | null = null;
  /** The same decision per via-branch of the offers (an answer naming a branch gets its offer's). */
  readonly muxByBranch = new BranchMux();
  /** This party's codec list as negotiated (what it may send; what its SDP from the relay lists). */
  codecStore: CodecStore | null = null;
  /** The a=ptime this party's SDP from the relay carries (rtpengine keeps the last one seen). */
  sdpPtime: number | undefined = undefined;
  /** A `ptime` flag set it: the SDPs' own a=ptime no longer change it. */
  ptimeOverride = false;
  /** The codecs this party's own SDP kept (with their a=fmtp), and its a=ptime: what a subscriber is offered. */
  sent: Codec[] = [];
  ptime: number | undefined = undefined;
  /** A subscriber's media: the party and media it copies, and the pipeline when the subscriber took another codec. */
  subscription: { party: Monologue; media: Media; transcoding: TranscodeSettings | null } | null = null;
  /** What this party sends is converted with these before it reaches its peer (null: relayed as it is). */
  transcoding: TranscodeSettings | null = null;
  /** What this party hears in place of its peer (a file, digits), and the file's path when it came from one. */
  playback: { settings: PlaybackSettings; file: string | null } | null = null;
  /** A file playback from a record, to continue once the call is ours and the file is loaded. */
  resumePlay: FilePlayRecord | null = null;
  /**
   * `media echo`: what this party sends goes back to it (`echo`) or nowhere (`blackhole`)
   * instead of to its peer; null: relayed. Kept until an offer or answer sets it again.
   */
  echo: MediaEchoMode | null = null;
  /** Not relayed (`m=message` ...): passed on as it came. */
  passthrough = false;
  /** Rejected (port 0): no streams. */
  rejected = false;
  /** The party's SDP endpoint, or null when unknown (not yet answered, zero address). */
  sdpAddress: string | null = null;
  sdpRtpPort = 0;
  sdpRtcpPort = 0;
  rtp: Stream | null = null;
  rtcp: Stream | null = null;
  /**
   * BUNDLE: the media of the same party whose port this one shares (its `rtp`/`rtcp` are that
   * media's streams, owned and closed by it); null: the media has its own ports.
   */
  transportOwner: Media | null = null;
  /** The a=extmap id of the MID header extension in the party's SDP (0: none), for demultiplexing a bundle. */
  midExtension = 0;
  /** The party's own usable `a=crypto` lines (its keys), from its latest SDP. */
  sdes: SdesCrypto[] = [];
  /** The `a=crypto` lines the relay gave this party (the relay's keys towards it). */
  ourSdes: SdesCrypto[] = [];
  /** SDES options of the offer this party made (they apply to the answer it gets). */
  sdesOptions: SdesOptions = DEFAULT_SDES;
  /**
   * This party speaks SRTP under a plain RTP profile name (OSRTP, RFC 8643): its SDP had
   * `a=crypto` or `a=fingerprint` on RTP/AVP(F), or the relay offered it so.
   */
  osrtp = false;
  /** This party's profile was set by `transport-protocol`: later offers keep it while the offerer keeps its own. */
  protocolOverride = false;
  /** Whether offers towards this party leave SDES out (decided at the first secure offer, as rtpengine does). */
  sdesOff: boolean | null = null;
  /** SRTP of the legs facing this party (decided at the answer); null: plain or passed through. */
  crypto: LegCrypto | null = null;
  /** DTLS and ICE towards this party. */
  readonly webrtc: WebrtcState = newWebrtcState();

  constructor(readonly index: number) {}

  /** The streams this media owns (none when it shares another's port). */
  streams(): Stream[] {
    const s: Stream[] = [];
    if (this.transportOwner) return s;
    if (this.rtp) s.push(this.rtp);
    if (this.rtcp) s.push(this.rtcp);
    return s;
  }

  /** The codec reports name: like rtpengine, only once RTP has arrived (then the SDP's first). */
  get reportedCodec(): string | undefined {
    return (this.rtp?.leg?.packets ?? 0) > 0 ? this.codecs[0] : undefined;
  }

  /** Converted streams this media runs (its party's packets, a subscriber's copy): rtpengine's "transcoded media". */
  get conversions(): number {
    return (this.transcoding !== null && !this.rejected ? 1 : 0) + (this.subscription?.transcoding ? 1 : 0);
  }

  /** Whether the party sends media: decides between `timeout` and `silent-timeout`. */
  get sending(): boolean {
    return (this.direction === 'sendrecv' || this.direction === 'sendonly') && this.sdpAddress !== null
      && this.sdpAddress !== '0.0.0.0' && this.sdpAddress !== '::';
  }

  close(): void {
    if (!this.transportOwner) {
      this.rtp?.close();
      this.rtcp?.close();
    }
    this.transportOwner = null;
    this.rtp = null;
    this.rtcp = null;
  }
}
