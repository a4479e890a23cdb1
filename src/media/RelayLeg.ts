import type dgram from 'node:dgram';
import { mediaCounters } from './MediaCounters.js';

export type LearningMode = 'off' | 'immediate' | 'delayed' | 'heuristic';

/** rtpengine's learning window after the last signalling event. */
export const LEARNING_WINDOW_MS = 3000;

/**
 * Datagrams libuv may hold for one socket when the kernel's buffer is full; beyond this a
 * leg drops (and counts) instead of queueing without bound.
 */
export const MAX_SEND_QUEUE = 256;

/** What the control plane wants to hear from a leg; called rarely, never per packet. */
export interface LegObserver {
  /** The endpoint packets are sent to changed (learned, confirmed, handed over). */
  endpointChanged(leg: RelayLeg): void;
  /** First packet after `watchActivity` was set (takeover of a foreign call). */
  activity(leg: RelayLeg): void;
}

/** Receives copies of relayed packets (pcap recording). */
export interface PacketTap {
  packet(data: Buffer, srcAddress: string, srcPort: number, dstAddress: string, dstPort: number): void;
}

/**
 * One local socket of a party: it receives what that party sends and sends to that party
 * what its peer sends. Packets received here leave through `forward` towards the peer's
 * endpoint; `rtcpForward` takes muxed RTCP towards a peer that does not mux.
 */
export class RelayLeg {
  /** Where packets sent out of this leg go: the party's learned (or SDP) endpoint. */
  remoteAddress = '';
  remotePort = 0;
  /** The endpoint the party's SDP gave. */
  sdpAddress = '';
  sdpPort = 0;
  confirmed = false;
  learnUntil = 0;
  learning: LearningMode = 'delayed';
  strictSource = false;
  mediaHandover = false;
  /** Do not learn: send to the SDP endpoint whatever the source. */
  asymmetric = false;
  /** Stops relaying (delete, block) without closing the socket. */
  stopped = false;
  watchActivity = false;
  forward: RelayLeg | null = null;
  rtcpForward: RelayLeg | null = null;
  tap: PacketTap | null = null;
  observer: LegObserver | null = null;
  /** Ingress counters of this socket. */
  packets = 0;
  bytes = 0;
  /** SSRC of the last RTP packet received (0 = none yet), for query and the CLI. */
  ssrc = 0;
  errors = 0;
  lastPacket: number;
  private heuristicRank = -1;
  private closed = false;

  constructor(
    readonly socket: dgram.Socket,
    readonly localAddress: string,
    readonly localPort: number,
    readonly family: 4 | 6,
    /** The odd port of a pair: everything on it is RTCP. */
    readonly rtcpPort = false,
  ) {
    this.lastPacket = Date.now();
    socket.on('message', this.onMessage);
    // A send to an unreachable endpoint surfaces as an ICMP error on some kernels; never crash.
    socket.on('error', () => {
      this.errors++;
    });
  }

  /** New SDP endpoint from signalling: re-learn if it changed, restart the learning window. */
  setSdpEndpoint(address: string, port: number, now: number): void {
    const changed = address !== this.sdpAddress || port !== this.sdpPort;
    this.sdpAddress = address;
    this.sdpPort = port;
    if (changed || this.remotePort === 0) {
      this.remoteAddress = address;
      this.remotePort = port;
      this.confirmed = this.learning === 'off' || this.asymmetric;
      this.heuristicRank = -1;
    }
    this.learnUntil = now + LEARNING_WINDOW_MS;
  }

  private readonly onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.stopped) return;
    const now = Date.now();
    if (rinfo.port !== this.remotePort || rinfo.address !== this.remoteAddress) {
      if (!this.otherSource(msg, rinfo, now)) {
        this.errors++;
        mediaCounters.errors++;
        return;
      }
    } else if (!this.confirmed) {
      this.currentSource(msg, rinfo, now);
    }
    this.packets++;
    this.bytes += msg.length;
    this.lastPacket = now;
    mediaCounters.packets++;
    mediaCounters.bytes += msg.length;
    if (this.watchActivity) {
      this.watchActivity = false;
      this.observer?.activity(this);
    }
    const b1 = msg.length > 1 ? msg[1]! : 0;
    // RFC 5761: second byte 192-223 is RTCP (on a muxed port, or stray on an RTP port).
    const rtcp = b1 >= 192 && b1 <= 223;
    if (!rtcp && !this.rtcpPort && msg.length >= 12) {
      const ssrc = msg.readUInt32BE(8);
      if (ssrc !== this.ssrc) this.ssrc = ssrc;
    }
    const out = this.rtcpForward !== null && rtcp ? this.rtcpForward : this.forward;
    if (out === null || out.remotePort === 0 || out.closed) return;
    if (out.socket.getSendQueueCount() >= MAX_SEND_QUEUE) {
      out.sendError();
      return;
    }
    // Without a callback Node drops send errors silently; this one is allocated once per leg.
    out.socket.send(msg, out.remotePort, out.remoteAddress, out.onSent);
    if (this.tap !== null) this.tap.packet(msg, out.localAddress, out.localPort, out.remoteAddress, out.remotePort);
  };

  private readonly onSent = (err: Error | null): void => {
    if (err) this.sendError();
  };

  /** A packet that could not leave through this leg (send error, full queue) counts against it. */
  private sendError(): void {
    this.errors++;
    mediaCounters.errors++;
  }

  /** A packet from the endpoint being learned: it keeps its heuristic rank and is confirmed after the window. */
  private currentSource(msg: Buffer, rinfo: dgram.RemoteInfo, now: number): void {
    if (this.strayRtcp(msg)) return;
    if (this.learning === 'heuristic') this.heuristicRank = Math.max(this.heuristicRank, this.rank(rinfo));
    if (this.learning === 'immediate' || now >= this.learnUntil) {
      this.confirmed = true;
      this.observer?.endpointChanged(this);
    }
  }

  /** A packet from a source other than the current endpoint: learn, hand over, accept or drop. */
  private otherSource(msg: Buffer, rinfo: dgram.RemoteInfo, now: number): boolean {
    if (this.asymmetric || this.learning === 'off') {
      return !this.strictSource || this.remotePort === 0;
    }
    if (this.strayRtcp(msg)) return !(this.confirmed && this.strictSource);
    if (this.confirmed) {
      if (this.strictSource) return false;
      if (this.mediaHandover) this.learn(rinfo, true);
      return true;
    }
    switch (this.learning) {
      case 'immediate':
        this.learn(rinfo, true);
        return true;
      case 'delayed':
        this.learn(rinfo, now >= this.learnUntil);
        return true;
      case 'heuristic': {
        const rank = this.rank(rinfo);
        if (now >= this.learnUntil) this.learn(rinfo, true);
        else if (rank >= this.heuristicRank) {
          this.heuristicRank = rank;
          this.learn(rinfo, false);
        }
        return true;
      }
    }
  }

  /**
   * RTCP on an RTP port that does not mux (some PBXs send it there, rtpengine GH #697) is
   * relayed but neither learns nor confirms an endpoint.
   */
  private strayRtcp(msg: Buffer): boolean {
    if (this.rtcpPort || this.rtcpForward !== null || msg.length < 2) return false;
    return msg[1]! >= 192 && msg[1]! <= 223;
  }

  private rank(rinfo: dgram.RemoteInfo): number {
    const sameIp = rinfo.address === this.sdpAddress;
    const samePort = rinfo.port === this.sdpPort;
    return sameIp && samePort ? 3 : sameIp ? 2 : samePort ? 1 : 0;
  }

  private learn(rinfo: dgram.RemoteInfo, confirm: boolean): void {
    this.remoteAddress = rinfo.address;
    this.remotePort = rinfo.port;
    this.confirmed = confirm;
    this.observer?.endpointChanged(this);
  }

  /** Restores a learned endpoint from a record (standby, restart). */
  restoreEndpoint(address: string, port: number, confirmed: boolean): void {
    this.remoteAddress = address;
    this.remotePort = port;
    this.confirmed = confirmed;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forward = null;
    this.rtcpForward = null;
    this.tap = null;
    this.observer = null;
    this.socket.removeAllListeners('message');
    try {
      this.socket.close();
    } catch {
      /* already closed */
    }
  }
}
