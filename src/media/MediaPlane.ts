import type { IceSettings } from './transforms/IceAgent.js';
import type { PlaybackSettings } from './engine/PlaybackSettings.js';
import type { TranscodeSettings } from './engine/TranscodeSettings.js';
import type { LocalAddress } from './LocalInterface.js';
import type { MediaControl } from './MediaControl.js';
import type { DtmfReporting } from './DtmfReport.js';

/**
 * The media plane's contract: everything above `media/` (the call model, the store, the CLI)
 * allocates, configures, reads and closes media through these types only. Which backend
 * moves the packets (userspace sockets, the kernel fast path, worker threads) is the plane's
 * business.
 */

export type LearningMode = 'off' | 'immediate' | 'delayed' | 'heuristic';

/** How a leg treats sources, from the call's NG flags. */
export interface LegPolicy {
  learning: LearningMode;
  strictSource: boolean;
  mediaHandover: boolean;
  /** Do not learn: send to the SDP endpoint whatever the source. */
  asymmetric: boolean;
}

/** What the control plane wants to hear from a leg; called rarely, never per packet. */
export interface LegObserver {
  /** The endpoint packets are sent to changed (learned, confirmed, handed over). */
  endpointChanged(leg: MediaLeg): void;
  /** First packet after `watchActivity(true)` (takeover of a foreign call). */
  activity(leg: MediaLeg): void;
  /** A stream's SRTP index moved on far enough to be recorded (`srtpState`): a new SSRC, a quarter of a ROC, a new ROC. */
  srtpChanged(leg: MediaLeg): void;
}

/** Receives copies of relayed packets (pcap recording). A leg with a tap stays in userspace. */
export interface PacketTap {
  packet(data: Buffer, srcAddress: string, srcPort: number, dstAddress: string, dstPort: number): void;
}

/** SDES or DTLS-exported master key of one direction (structured-clonable: it crosses to media workers). */
export interface SrtpKeying {
  /** RFC 4568 suite name, e.g. AES_CM_128_HMAC_SHA1_80. */
  suite: string;
  key: Uint8Array;
  salt: Uint8Array;
  /** The master key identifier carried by every packet under this key (SDES `|VALUE:LENGTH`), when there is one. */
  mki?: Uint8Array;
}

/**
 * What a leg does to packets besides relaying them: `recv` verifies and decrypts what its
 * party sends, `send` encrypts what goes to its party; null = plain on that side.
 */
export interface LegCrypto {
  recv: SrtpKeying | null;
  send: SrtpKeying | null;
  /**
   * Where the party's packets pass as they are (both parties hold the same keys, `send` null):
   * the key for packets the relay makes itself towards the party (playback, transcoding).
   */
  made?: SrtpKeying | null;
  /** DTLS-SRTP: the keys come from a handshake on this port in this role; `fingerprint` is the peer's from its SDP. */
  dtls?: {
    role: 'client' | 'server';
    fingerprint: { hash: string; value: string } | null;
    /** A restored or standby leg: as client, shake hands only once the peer sends (it may hold keys from before). */
    hold?: boolean;
  } | null;
  /** ICE on this port (one component): our credentials, the peer's, our role and the peer's candidates. */
  ice?: IceSettings | null;
}

/** Where one SSRC's SRTP stands in one direction (RFC 3711 3.2.1): rollover counter, highest sequence number, SRTCP index. */
export interface SrtpIndex {
  ssrc: number;
  roc: number;
  seq: number;
  /** Sending: the next SRTCP index; receiving: the highest accepted (-1: none). */
  rtcp: number;
}

/**
 * A leg's SRTP state: the indices in both directions, and the keys when a DTLS handshake on
 * the leg made them (peers do not shake hands again by themselves): what a restarted or
 * taking-over relay continues from.
 */
export interface LegSrtpState {
  recv: SrtpIndex[];
  send: SrtpIndex[];
  dtlsKeys?: { recv: SrtpKeying; send: SrtpKeying };
}

/** ICE: another address of a leg's interface the leg also receives on (one more local candidate of ours). */
export interface AlternateAddress {
  address: string;
  port: number;
  family: 4 | 6;
}

/** An endpoint: address and port. */
export interface Endpoint {
  address: string;
  port: number;
}

/**
 * ICE: the pair a leg's media uses: the local candidate (the address of the leg's own port or
 * of an alternate) and the party's candidate (`address`, `port`); `nominated`: nominated and
 * checked, the component's ICE is complete. `ufrag`: the relay's credentials it was found
 * under (an ICE restart makes it stale).
 */
export interface IcePair {
  local: string;
  address: string;
  port: number;
  nominated: boolean;
  ufrag: string;
}

/**
 * One local media port of a party: it receives what that party sends, and sends that party
 * what its peer sends. Counters cover every packet received on the port, whichever path
 * relayed it.
 */
export interface MediaLeg {
  readonly localAddress: string;
  readonly localPort: number;
  readonly family: 4 | 6;
  /** Where packets leaving through this leg go: the learned (or SDP) endpoint; port 0 = none yet. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly confirmed: boolean;
  /** The endpoint the party's SDP gave. */
  readonly sdpAddress: string;
  readonly sdpPort: number;
  readonly policy: Readonly<LegPolicy>;
  readonly packets: number;
  readonly bytes: number;
  readonly errors: number;
  /** Epoch ms of the last packet received (creation time before any). */
  readonly lastPacket: number;
  /** SSRC of the last RTP packet received (0 = none yet). */
  readonly ssrc: number;
  /** Relayed by the kernel fast path right now. */
  readonly offloaded: boolean;
  readonly isClosed: boolean;
  /**
   * ICE: the other addresses the leg receives on (see `MediaPlane.bindAlternate`), in the order
   * of its candidates after its own. Media to the party leaves from the address of the pair
   * ICE selected. A leg with alternates stays in userspace.
   */
  readonly alternates: readonly AlternateAddress[];
  /** Closes the alternates' sockets (their ports go back to their pools by the caller). */
  dropAlternates(): void;
  /** ICE: the pair media uses now (null: none yet, or no ICE). */
  readonly icePair: IcePair | null;
  /**
   * A pair from a record: media leaves from its local address at once and, when nominated,
   * the agent carries on without checking again (an ICE restart drops it).
   */
  restoreIcePair(pair: IcePair): void;

  setPolicy(policy: LegPolicy): void;
  setObserver(observer: LegObserver | null): void;
  setTap(tap: PacketTap | null): void;
  /**
   * SRTP on this leg (null: plain both ways). The same keys again keep the running state
   * (ROC, replay window); new keys (re-keying) start afresh. A leg with crypto stays in userspace.
   */
  setCrypto(crypto: LegCrypto | null): void;
  /** The SRTP indices as last known (a worker's leg: as last reported), or null without SRTP state. */
  readonly srtpState: LegSrtpState | null;
  /**
   * Indices from a record: SSRCs that have not sent through this leg yet continue from them
   * (with the keys the leg has or gets next).
   */
  restoreSrtp(state: LegSrtpState): void;
  /**
   * Converts the RTP this leg receives before it leaves through the forward leg (null: relay as
   * it is). The same settings again keep the running pipeline. RTCP about a converted stream is
   * rewritten for its receiver (RtcpTranslation). A transcoding leg stays in userspace.
   */
  setTranscoding(settings: TranscodeSettings | null): void;
  /**
   * An RTCP port whose party sends or receives a converted stream: its RTCP is rewritten with
   * the converted streams of `rtp` (the party's RTP leg) and of the leg `rtp` forwards to (null:
   * relayed as it is). Such a port stays in userspace.
   */
  translateRtcpOf(rtp: MediaLeg | null): void;
  /**
   * Plays a file or digits to this leg's party in place of what its peer sends (null: stop).
   * The same settings again change nothing; a playback ends by itself. A leg that has played
   * stays in userspace (it renumbers the party's stream to keep it continuous). A file's stream
   * gets sender reports, as rtpengine sends them, through `rtcp` (the party's RTCP leg; null:
   * this leg, RTCP muxed).
   */
  setPlayback(settings: PlaybackSettings | null, rtcp?: MediaLeg | null): void;
  /**
   * Block or silence what this leg receives, or its DTMF, before it is relayed (null: nothing).
   * The same control again changes nothing. A controlled leg stays in userspace.
   */
  setMediaControl(control: MediaControl | null): void;
  /** Report the party's digits (`dtmf-log-dest`); a leg whose party sends RFC 4733 events then stays in userspace. */
  setDtmfReporting(reporting: DtmfReporting | null): void;
  /** Where what this leg receives goes: RTP (and everything on an RTCP port) to `rtp`, muxed RTCP to `rtcp` when given. */
  forwardTo(rtp: MediaLeg | null, rtcp: MediaLeg | null): void;
  /**
   * BUNDLE: this port carries several m= lines of its party, and each packet goes to its own
   * m= line's targets (null: everything goes where `forwardTo` said). A demultiplexing leg
   * stays in userspace.
   */
  demuxTo(bundle: BundleTargets | null): void;
  /**
   * Besides `forwardTo`, what this leg receives is copied to these (subscribers), each from the
   * same decrypted packet. The same targets again keep their pipelines. A leg with targets stays in userspace.
   */
  fanOutTo(targets: readonly FanOutTarget[]): void;
  /** New SDP endpoint from signalling: re-learn if it changed, restart the learning window. */
  setSdpEndpoint(address: string, port: number, now: number): void;
  /** Endpoints from a record (standby, restart): no learning window restarts. */
  restore(sdp: Endpoint | null, endpoint: (Endpoint & { confirmed: boolean }) | null): void;
  /** Report the next packet through `LegObserver.activity`. */
  watchActivity(on: boolean): void;
  /** Stops relaying (delete) without closing the port. */
  stop(): void;
  close(): void;
}

/**
 * A subscriber's legs that get a copy of what a leg receives: RTP (and everything on an RTCP
 * port) leaves through `rtp`, muxed RTCP through `rtcp` when given, as `forwardTo` takes them.
 * With `transcoding`, the copy is converted first (its RTCP is not copied).
 */
export interface FanOutTarget {
  rtp: MediaLeg;
  rtcp: MediaLeg | null;
  transcoding: TranscodeSettings | null;
}

/** One m= line of a bundled port: how its packets are recognised and where they go (as `forwardTo` takes them). */
export interface BundleTarget {
  mid: string;
  payloadTypes: readonly number[];
  rtp: MediaLeg | null;
  rtcp: MediaLeg | null;
}

/** The m= lines sharing a port, the first owning it; `midExtension`: the a=extmap id of the MID header extension (0: none). */
export interface BundleTargets {
  midExtension: number;
  routes: readonly BundleTarget[];
}

/** Allocates media ports and hands out legs bound on them. */
export interface MediaThreadStats {
  index: number;
  legs: number;
  packets: number;
  youngCollections: number;
  gcMs: number;
}

/** A wait that is over: what the media plane (or a store) returns when it has nothing to wait for. */
export const SETTLED: Promise<void> = Promise.resolve();

export interface MediaPlane {
  /**
   * A bound RTP/RTCP pair on consecutive ports of `local` (RTP even). Legs with the same
   * `group` (a call) can forward to each other: they live on the same media thread.
   */
  allocatePair(local: LocalAddress, group: string): Promise<[MediaLeg, MediaLeg]>;
  /** Binds a port already claimed in `local`'s pool (a restored call's). */
  bindReserved(local: LocalAddress, port: number, rtcpOnly: boolean, group: string): Promise<MediaLeg>;
  /** Binds a port already claimed in `local`'s pool as one more address of `leg` (ICE); rejects when the bind fails. */
  bindAlternate(leg: MediaLeg, local: LocalAddress, port: number): Promise<void>;
  /**
   * Per media worker thread: ports (legs) it holds, packets it relayed, its young-generation
   * garbage collections and the milliseconds all its collections took; empty when media runs
   * on the control thread.
   */
  threads(): MediaThreadStats[];
  /** Stops a media thread as if it had died (it is restarted with its calls); false when there is no such thread. */
  killThread(index: number): Promise<boolean>;
  /** Makes a media thread hang or leave a rejection unhandled (tests only: NGRELAY_TEST_HOOKS=1); false when not possible. */
  injectFault(index: number, fault: 'hang' | 'reject'): boolean;
  /** Asks each media thread to give its garbage back to the system (signalling went quiet after a burst). */
  releaseMemory(): void;
  /** Resolves once every change made to legs so far is in effect (kernel entries included). */
  settled(): Promise<void>;
  /** Resolves once everything media threads saw until now (packet copies, learned endpoints) has reached the control thread. */
  caughtUp(): Promise<void>;
  /** Stops whatever the plane runs besides its legs (kernel entries, workers). */
  close(): Promise<void>;
}
