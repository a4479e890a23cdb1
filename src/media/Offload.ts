/**
 * What a faster path (the kernel) needs to know of a leg and may write back. Both the
 * userspace leg and a worker thread's leg proxy offer it.
 */
import type { MediaLeg } from './MediaPlane.js';

/** Packets a faster path relayed for a leg, added to the leg's own counters. */
export interface OffloadedCounts {
  packets: number;
  bytes: number;
  errors: number;
  /** Epoch ms; 0 = none. */
  lastPacket: number;
  ssrc: number;
}

/** The addresses and state of the seam's leg, plus what decides and records offloading. */
export interface OffloadableLeg extends Pick<MediaLeg, 'localAddress' | 'localPort' | 'family' | 'remoteAddress' | 'remotePort' | 'confirmed' | 'isClosed'> {
  /** Relaying stopped (deleted call) or closed. */
  readonly isStopped: boolean;
  /** The next packet is to be reported (a standby copy waiting for its call's media). */
  readonly isWatching: boolean;
  /** Packets are copied to a tap (recording): they must reach userspace. */
  readonly tapped: boolean;
  /** Packets are copied to subscribers: they must reach userspace. */
  readonly copied: boolean;
  /** Packets are shared out among bundled m= lines: they must reach userspace. */
  readonly demuxed: boolean;
  /** Packets are transformed (SRTP, DTLS, STUN): they must reach userspace. */
  readonly transformed: boolean;
  /** Where RTP (and everything on an RTCP port) received here goes; muxed RTCP to `rtcpForward`. */
  readonly forward: OffloadableLeg | null;
  readonly rtcpForward: OffloadableLeg | null;
  readonly offloadedCounts: OffloadedCounts;
  offloaded: boolean;
}

/** Told when something that decides whether a leg may be offloaded changes; never per packet. */
export interface OffloadWatcher {
  legChanged(leg: OffloadableLeg): void;
  /** Resolves once every change reported so far is in effect. */
  settled(): Promise<void>;
  close(): Promise<void>;
}
