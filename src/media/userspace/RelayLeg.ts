import type { PlaybackSettings } from '../engine/PlaybackSettings.js';
import { Playout } from '../engine/Playout.js';
import { MediaFilter } from '../engine/MediaFilter.js';
import { ConvertedStream, translateRtcp } from '../engine/RtcpTranslation.js';
import { ReceivedStream } from '../engine/ReceivedStream.js';
import { MAX_REPORT, writeSenderReport } from '../engine/SenderReport.js';
import type { Player } from '../engine/Player.js';
import { instanceIdBytes } from '../InstanceId.js';
import { PACKETS_IN_FLIGHT, Transcoder } from '../engine/Transcoder.js';
import { isActive, type MediaControl } from '../MediaControl.js';
import type { TranscodeSettings } from '../engine/TranscodeSettings.js';
import type dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import { threadTotals, TOTAL_BYTES, TOTAL_ERRORS, TOTAL_PACKETS } from '../MediaCounters.js';
import { BundleDemux } from '../transforms/BundleDemux.js';
import type { AlternateAddress, BundleTargets, Endpoint, FanOutTarget, IcePair, LegCrypto, LegObserver, LegPolicy, LegSrtpState, MediaLeg, PacketTap, SrtpKeying } from '../MediaPlane.js';
import { DtlsEndpoint, type DtlsKeys } from '../transforms/DtlsEndpoint.js';
import { dtlsIdentity } from '../transforms/DtlsIdentity.js';
import { IceAgent, type IceSocket } from '../transforms/IceAgent.js';
import { BINDING_REQUEST, parseStun } from '../transforms/Stun.js';
import { dtlsIdentityOf, iceIdentity, sdesIdentity, SrtpTransform } from '../transforms/SrtpTransform.js';
import { BYTES, ERRORS, LAST_PACKET, PACKETS, SSRC, ownCounters } from '../LegCounters.js';
import type { OffloadableLeg, OffloadedCounts } from '../Offload.js';
import { sendDtmfReport, type DtmfDigit, type DtmfReporting } from '../DtmfReport.js';
import { DtmfEnds } from '../engine/DtmfEnds.js';

/** rtpengine's learning window after the last signalling event. */
export const LEARNING_WINDOW_MS = 3000;

/**
 * Datagrams libuv may hold for one socket when the kernel's buffer is full; beyond this a
 * leg drops (and counts) instead of queueing without bound.
 */
export const MAX_SEND_QUEUE = 256;

/** Told when the leg's state changes (for the kernel fast path, or a worker's control thread). */
export interface LegWatcher {
  legChanged(leg: RelayLeg): void;
}

const DEFAULT_POLICY: LegPolicy = { learning: 'delayed', strictSource: false, mediaHandover: false, asymmetric: false };

/** A subscriber a leg copies to, with its own pipeline when it takes another codec. */
interface Copy {
  readonly rtp: RelayLeg;
  readonly rtcp: RelayLeg | null;
  readonly transcoder: Transcoder | null;
  /** The pipeline's settings as text ('' without one): the same again keeps it. */
  readonly transcodeId: string;
}
const NO_COPIES: readonly Copy[] = [];

interface AlternateSocket extends AlternateAddress {
  readonly socket: dgram.Socket;
}

/**
 * The userspace leg: one bound socket. Packets received here leave through `forward`
 * towards the peer's endpoint; `rtcpForward` takes muxed RTCP towards a peer that does not mux.
 */
export class RelayLeg implements MediaLeg, OffloadableLeg {
  private remoteAddr = '';
  private remotePortNo = 0;
  private sdpAddr = '';
  private sdpPortNo = 0;
  private isConfirmed = false;
  private learnUntil = 0;
  private pol: LegPolicy = DEFAULT_POLICY;
  private stopped = false;
  private watching = false;
  /** Where what arrives here leaves (package-visible for the offload decision). */
  forward: RelayLeg | null = null;
  rtcpForward: RelayLeg | null = null;
  tap: PacketTap | null = null;
  /** BUNDLE: the m= lines sharing this port and each one's forward legs (null: all goes to `forward`). */
  private demux: BundleDemux<{ rtp: RelayLeg | null; rtcp: RelayLeg | null }> | null = null;
  /** Subscribers that get a copy of what arrives here; replaced as a whole when they change. */
  private copies: readonly Copy[] = NO_COPIES;
  /** SRTP of this leg's party: decrypts what arrives, encrypts what leaves here. */
  srtp: SrtpTransform | null = null;
  /** Keys passed through (`srtp` leaves the party's packets alone): encrypts what the relay makes for the party. */
  private madeSrtp: SrtpTransform | null = null;
  /** DTLS-SRTP on this port: the handshake that keys `srtp`. */
  dtls: DtlsEndpoint | null = null;
  /** The keys the leg's DTLS handshake made (or a record gave): part of its SRTP state. */
  private dtlsMade: DtlsKeys | null = null;
  private dtlsId = '';
  /** SRTP indices from a record, for the next SDES transform's streams. */
  private restoredSrtp: LegSrtpState | null = null;
  /** The ICE agent of this port (one component). */
  private ice: IceAgent | null = null;
  private iceId = '';
  /** ICE: sockets on the interface's other addresses (more local candidates). */
  private alts: AlternateSocket[] = [];
  /** ICE: the pair media uses (from the agent, or a record until the agent has its own). */
  private pair: IcePair | null = null;
  /** The local address (index) of the packet being handled: 0 unless it arrived on an alternate. */
  private rx = 0;
  /** Where media to this leg's party leaves from: its own socket, or the alternate ICE selected. */
  tx: dgram.Socket;
  private txFamily: 4 | 6;
  /** Converts what arrives here before it leaves through `forward`. */
  private transcoder: Transcoder | null = null;
  private transcodeId = '';
  /** What the transcoder received and sent, for the RTCP about it. */
  private converted: ConvertedStream | null = null;
  /** An RTCP port of a converted stream: its party's RTP leg (whose streams its RTCP is rewritten for). */
  private rtcpOf: RelayLeg | null = null;
  /** Playbacks to this leg's party (made at the first one; it then renumbers the party's stream for good). */
  private playout: Playout | null = null;
  /** Where the playbacks' sender reports leave (the party's RTCP leg, or this one when muxed). */
  private reportVia: RelayLeg = this;
  private reportBuf: Buffer | null = null;
  /** The party's stream as received here (RTP), and its last sender report (RTCP on this port). */
  readonly received = new ReceivedStream();
  /** Block/silence media and block DTMF on what arrives here. */
  private filter: MediaFilter | null = null;
  private controlId = '';
  /** DTMF reports: for whom, and the party's RFC 4733 events (null: it sends none). */
  private dtmfReporting: DtmfReporting | null = null;
  private dtmfEnds: DtmfEnds | null = null;
  private dtmfId = '';
  private observer: LegObserver | null = null;
  /** What a faster path relayed for this leg (kernel fast path). */
  readonly offloadedCounts: OffloadedCounts = { packets: 0, bytes: 0, errors: 0, lastPacket: 0, ssrc: 0 };
  private isOffloaded = false;
  private heuristicRank = -1;
  /** SRTP errors of transforms replaced by re-keying. */
  private oldSrtpErrors = 0;
  private closed = false;

  constructor(
    readonly socket: dgram.Socket,
    readonly localAddress: string,
    readonly localPort: number,
    readonly family: 4 | 6,
    /** The odd port of a pair: everything on it is RTCP. */
    readonly rtcpPort = false,
    private readonly watcher: LegWatcher | null = null,
    /** Ingress counters of this socket (LegCounters layout), maybe in shared memory. */
    private readonly c: Float64Array<ArrayBufferLike> = ownCounters(Date.now()),
  ) {
    this.tx = socket;
    this.txFamily = family;
    socket.on('message', this.onMessage);
    // A send to an unreachable endpoint surfaces as an ICMP error on some kernels; never crash.
    socket.on('error', () => {
      this.c[ERRORS]!++;
    });
  }

  get offloaded(): boolean {
    return this.isOffloaded;
  }
  set offloaded(on: boolean) {
    if (on && !this.isOffloaded) this.relayedElsewhere();
    this.isOffloaded = on;
  }

  /**
   * The kernel fast path relays the party's packets from now on: the stream as received here
   * starts again at its next packet here, so what went by is not taken for loss.
   */
  relayedElsewhere(): void {
    this.received.restart();
  }

  get remoteAddress(): string {
    return this.remoteAddr;
  }
  get remotePort(): number {
    return this.remotePortNo;
  }
  get sdpAddress(): string {
    return this.sdpAddr;
  }
  get sdpPort(): number {
    return this.sdpPortNo;
  }
  get confirmed(): boolean {
    return this.isConfirmed;
  }
  get policy(): Readonly<LegPolicy> {
    return this.pol;
  }
  get packets(): number {
    return this.c[PACKETS]! + this.offloadedCounts.packets;
  }
  get bytes(): number {
    return this.c[BYTES]! + this.offloadedCounts.bytes;
  }
  get errors(): number {
    return this.c[ERRORS]! + this.offloadedCounts.errors;
  }
  get lastPacket(): number {
    return Math.max(this.c[LAST_PACKET]!, this.offloadedCounts.lastPacket);
  }
  get ssrc(): number {
    const o = this.offloadedCounts;
    return o.lastPacket > this.c[LAST_PACKET]! && o.ssrc !== 0 ? o.ssrc : this.c[SSRC]!;
  }
  get isClosed(): boolean {
    return this.closed;
  }
  get tapped(): boolean {
    return this.tap !== null;
  }
  get copied(): boolean {
    return this.copies.length !== 0;
  }
  get transformed(): boolean {
    return this.srtp !== null || this.dtls !== null || this.ice !== null || this.alts.length !== 0 || this.transcoder !== null || this.playout !== null || this.filter !== null || this.rtcpOf !== null || this.dtmfEnds !== null;
  }

  setMediaControl(control: MediaControl | null): void {
    const c = isActive(control) ? control : null;
    const id = c === null ? '' : JSON.stringify(c);
    if (id === this.controlId) return;
    this.filter?.close();
    this.filter = c === null ? null : new MediaFilter(c);
    this.controlId = id;
    this.changed();
  }

  setDtmfReporting(reporting: DtmfReporting | null): void {
    const id = reporting === null ? '' : JSON.stringify(reporting);
    if (id === this.dtmfId) return;
    this.dtmfId = id;
    const events = reporting !== null && reporting.events.length !== 0 ? JSON.stringify(reporting.events) : '';
    // New tags (the answer) keep the event in progress: its end is still reported once.
    if (events !== (this.dtmfReporting === null ? '' : JSON.stringify(this.dtmfReporting.events))) this.dtmfEnds = events === '' ? null : new DtmfEnds(reporting!.events);
    this.dtmfReporting = reporting;
    this.changed();
  }

  /** A digit the party sent (an event's end, or heard in converted audio) is reported once. */
  private reportDigit(source: string, digit: DtmfDigit): void {
    if (this.dtmfReporting !== null) sendDtmfReport(this.dtmfReporting, source, digit);
  }

  /** Plain RTP from `source`: an RFC 4733 event's first end is reported. */
  private watchEvents(msg: Buffer, source: string): void {
    if (this.dtmfEnds!.ended(msg, msg.length)) this.reportDigit(source, this.dtmfEnds!.digit);
  }

  /** In-band digits have no packet of their own: the party's endpoint is their source. */
  private readonly digitHeard = (digit: DtmfDigit): void => this.reportDigit(this.remoteAddr, digit);

  setPlayback(settings: PlaybackSettings | null, rtcp: MediaLeg | null = null): void {
    if (settings === null && this.playout === null) return;
    this.reportVia = (rtcp as RelayLeg | null) ?? this;
    if (this.playout === null) {
      this.reportBuf = Buffer.alloc(MAX_REPORT);
      this.playout = new Playout(this.sendPlayed, this.sendReport);
      this.changed();
    }
    this.playout.set(settings);
  }

  /** A played packet (a reused buffer) leaves through this leg to its party. */
  private readonly sendPlayed = (packet: Buffer, length: number): void => {
    this.deliver(this, packet, length);
  };

  /** A playback's sender report (about the party's stream as received here) goes to the party's RTCP port. */
  private readonly sendReport = (player: Player): void => {
    const via = this.reportVia;
    const n = writeSenderReport(this.reportBuf!, Date.now(), player, this.received, via.received, instanceIdBytes());
    this.deliver(via, this.reportBuf!, n, true);
  };

  setTranscoding(settings: TranscodeSettings | null): void {
    const id = settings === null ? '' : JSON.stringify(settings);
    if (id === this.transcodeId) return;
    const previous = this.transcoder;
    this.transcoder = null;
    this.transcodeId = id;
    if (settings !== null) {
      try {
        this.transcoder = new Transcoder(settings, this.sendTranscoded, previous);
        this.transcoder.onDigit(this.digitHeard);
        // New settings for the same output stream (a re-INVITE) keep its counts.
        if (this.converted?.outSsrc !== settings.ssrc) this.converted = new ConvertedStream(settings.ssrc, this.received);
      } catch {
        // A codec this build cannot run (opus without libopus): the stream's packets are dropped.
        this.transcodeId = '';
      }
    }
    previous?.close();
    if (this.transcoder === null) this.converted = null;
    this.changed();
  }

  translateRtcpOf(rtp: MediaLeg | null): void {
    const r = rtp as RelayLeg | null;
    if (r === this.rtcpOf) return;
    this.rtcpOf = r;
    this.changed();
  }

  /** A transcoded packet (a reused buffer) leaves through the forward leg. */
  private readonly sendTranscoded = (packet: Buffer, length: number): void => {
    const out = this.forward;
    if (out === null) return;
    this.converted?.sent(packet, length);
    if (out.playout !== null && out.playout.pass(packet, length, Date.now())) return;
    this.deliver(out, packet, length);
  };

  /** Sends a packet made on this thread (reused buffer) to `out`'s party. */
  private deliver(out: RelayLeg, packet: Buffer, length: number, control = false): void {
    if (out.remotePortNo === 0 || out.closed || out.stopped) return;
    if (out.dtls !== null && out.srtp === null) return out.sendError();
    // A send still queued holds one of the pipeline's reused buffers.
    if (out.tx.getSendQueueCount() >= PACKETS_IN_FLIGHT - 1) return out.sendError();
    const srtp = out.madeSrtp ?? out.srtp;
    if (srtp !== null) {
      // Protecting writes a new buffer and leaves its input alone: a view of the ring's buffer is enough.
      const wire = srtp.protect(packet.subarray(0, length), control, Date.now());
      if (wire === null) return out.sendError();
      out.tx.send(wire, out.remotePortNo, out.remoteAddr, out.onSent);
      return;
    }
    out.tx.send(packet, 0, length, out.remotePortNo, out.remoteAddr, out.onSent);
  }

  fanOutTo(targets: readonly FanOutTarget[]): void {
    const old = this.copies;
    const next: Copy[] = [];
    for (const t of targets) {
      const rtp = t.rtp as RelayLeg;
      const transcodeId = t.transcoding === null ? '' : JSON.stringify(t.transcoding);
      let transcoder = old.find((c) => c.rtp === rtp && c.transcodeId === transcodeId)?.transcoder ?? null;
      if (t.transcoding !== null && transcoder === null) {
        try {
          transcoder = new Transcoder(t.transcoding, (packet, length) => this.deliver(rtp, packet, length));
        } catch {
          // A codec this build cannot run: that subscriber gets nothing.
          continue;
        }
      }
      next.push({ rtp, rtcp: t.rtcp as RelayLeg | null, transcoder, transcodeId });
    }
    for (const c of old) if (c.transcoder !== null && !next.some((n) => n.transcoder === c.transcoder)) c.transcoder.close();
    this.copies = next.length === 0 ? NO_COPIES : next;
    this.changed();
  }
  /** SRTP errors (auth, replay, malformed) of this leg's sessions; already counted in `errors`. */
  get srtpErrors(): number {
    const t = this.srtp;
    if (t === null) return this.oldSrtpErrors;
    let n = this.oldSrtpErrors;
    for (const s of [t.recv, t.send]) if (s) n += s.errors.auth + s.errors.replay + s.errors.malformed + s.errors.full;
    return n;
  }
  /** Relaying stopped (deleted call) or closed. */
  get isStopped(): boolean {
    return this.stopped || this.closed;
  }

  setPolicy(policy: LegPolicy): void {
    this.pol = { ...policy };
    this.changed();
  }

  setObserver(observer: LegObserver | null): void {
    this.observer = observer;
  }

  setTap(tap: PacketTap | null): void {
    this.tap = tap;
    this.changed();
  }

  setCrypto(crypto: LegCrypto | null): void {
    let changed = false;
    const ice = iceIdentity(crypto);
    if (ice !== this.iceId) {
      this.ice?.close();
      this.ice = crypto?.ice ? new IceAgent(crypto.ice, this.families(), this.iceSocket) : null;
      if (this.ice === null) this.sendFrom(0);
      // New candidates under the same credentials keep the pair; an ICE restart starts over.
      if (this.pair !== null && this.pair.ufrag !== crypto?.ice?.ufrag) this.pair = null;
      this.resumePair();
      this.iceId = ice;
      changed = true;
    }
    const dtls = dtlsIdentityOf(crypto);
    if (dtls !== this.dtlsId) {
      // A new role or peer certificate: a new handshake, and no keys until it is done.
      this.dtls?.close();
      this.dtls = null;
      this.dtlsId = dtls;
      this.dtlsMade = null;
      this.oldSrtpErrors = this.srtpErrors;
      this.srtp = null;
      const identity = dtlsIdentity();
      if (crypto?.dtls && identity) {
        const d = crypto.dtls;
        const ep: DtlsEndpoint = new DtlsEndpoint(d.role, identity, d.fingerprint, (data) => this.sendDtls(data), (keys) => this.dtlsKeys(ep, keys), () => undefined);
        this.dtls = ep;
        // Keys from a record: the association goes on as it was (a new handshake from the peer still replaces them).
        const recorded = this.restoredSrtp?.dtlsKeys;
        if (recorded) this.adoptDtlsKeys(recorded);
        else if (this.remotePortNo !== 0 && this.ice === null && !d.hold) ep.start();
      }
      changed = true;
    }
    if (this.dtls === null) {
      const id = sdesIdentity(crypto);
      if (id !== (this.srtp?.identity ?? '')) {
        this.oldSrtpErrors = this.srtpErrors;
        this.srtp = id === '' ? null : this.srtpTransform(crypto!, id);
        changed = true;
      }
    }
    const made = this.dtls === null && !crypto?.send && crypto?.made ? { recv: null, send: crypto.made } : null;
    if (sdesIdentity(made) !== (this.madeSrtp?.identity ?? '')) this.madeSrtp = made === null ? null : new SrtpTransform(made);
    if (changed) this.changed();
  }

  get srtpState(): LegSrtpState | null {
    const s = this.srtp?.state ?? this.restoredSrtp;
    return s !== null && this.dtlsMade !== null ? { recv: s.recv, send: s.send, dtlsKeys: this.dtlsMade } : s;
  }

  /**
   * A record's SRTP state (restart, or a standby following its owner): indices continue the
   * streams of the keys in use; a DTLS leg takes the record's handshake keys when it has none
   * or they are newer than its own (the owner shook hands again).
   */
  restoreSrtp(state: LegSrtpState): void {
    if (this.srtp !== null && (this.dtls === null || sameDtlsKeys(state.dtlsKeys, this.dtlsMade))) {
      this.srtp.seed(state, Date.now());
      return;
    }
    this.restoredSrtp = state;
    if (state.dtlsKeys && this.dtls !== null) this.adoptDtlsKeys(state.dtlsKeys);
  }

  /** Keys from signalling, a handshake or a record: a record's indices continue their streams. */
  private srtpTransform(crypto: LegCrypto, id?: string): SrtpTransform {
    const t = new SrtpTransform(crypto, id);
    if (this.restoredSrtp !== null) t.seed(this.restoredSrtp, Date.now());
    this.restoredSrtp = null;
    t.onIndex(this.onSrtpIndex);
    return t;
  }

  private adoptDtlsKeys(keys: DtlsKeys): void {
    this.dtlsMade = keys;
    this.srtp = this.srtpTransform({ recv: keys.recv, send: keys.send });
  }

  private readonly onSrtpIndex = (): void => {
    this.observer?.srtpChanged(this);
  };

  private sendDtls(data: Buffer): void {
    if (this.remotePortNo === 0 || this.closed) return;
    this.tx.send(data, this.remotePortNo, this.remoteAddr, this.onSent);
  }

  private dtlsKeys(ep: DtlsEndpoint, keys: DtlsKeys): void {
    if (ep !== this.dtls) return;
    // A new handshake's streams start afresh.
    this.restoredSrtp = null;
    this.adoptDtlsKeys(keys);
    this.changed();
    // Recorded now: a survivor needs the keys before any index moves on.
    this.observer?.srtpChanged(this);
  }

  /** STUN (RFC 7983: first byte 0-3) to the ICE agent: checks get their answer, responses move the agent on. */
  private onStun(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const m = parseStun(msg);
    if (m === null) return this.sendError();
    const local = this.rx;
    if (m.type === BINDING_REQUEST) {
      const response = this.ice!.request(m, rinfo.address, rinfo.port, local);
      if (response === null) return this.sendError();
      this.socketAt(local).send(response, rinfo.port, rinfo.address, this.onSent);
    } else this.ice!.response(m, rinfo.address, rinfo.port, local);
    this.c[LAST_PACKET] = Date.now();
  }

  /** The socket of local address `i` (0: the leg's own, then its alternates). */
  private socketAt(i: number): dgram.Socket {
    return i === 0 ? this.socket : (this.alts[i - 1]?.socket ?? this.socket);
  }

  /** The agent's way out, and its choice of endpoint (a nominated or working pair) and of the local address media leaves from. */
  private readonly iceSocket: IceSocket = {
    send: (packet, port, address, local) => {
      if (!this.closed) this.socketAt(local).send(packet, port, address, this.onSent);
    },
    select: (address, port, local, valid) => {
      if (this.closed) return;
      const moved = this.takePair(this.addressAt(local), address, port, valid);
      this.sendFrom(local);
      if (address !== this.remoteAddr || port !== this.remotePortNo || !this.isConfirmed) this.learn(address, port, true);
      else if (moved) {
        // Recorded: a survivor sends from the same address at once.
        this.observer?.endpointChanged(this);
        this.changed();
      }
      this.dtls?.start();
    },
  };

  get icePair(): IcePair | null {
    return this.pair;
  }

  restoreIcePair(pair: IcePair): void {
    this.pair = { ...pair };
    this.resumePair();
    this.changed();
  }

  /** The agent's pair; true when it changed. */
  private takePair(local: string, address: string, port: number, nominated: boolean): boolean {
    const p = this.pair;
    const ufrag = this.ice?.settings.ufrag ?? '';
    if (p !== null && p.local === local && p.address === address && p.port === port && p.nominated === nominated && p.ufrag === ufrag) return false;
    this.pair = { local, address, port, nominated, ufrag };
    return true;
  }

  /** Media leaves from the recorded pair's local address, and the agent (if it has these credentials) carries on with it. */
  private resumePair(): void {
    const p = this.pair;
    if (p === null) return;
    const local = this.localIndex(p.local);
    if (local < 0) return;
    this.sendFrom(local);
    if (this.ice !== null && this.ice.settings.ufrag === p.ufrag) this.ice.resume(local, p.address, p.port, p.nominated);
  }

  /** The address of local candidate `i` (0: the leg's own). */
  private addressAt(i: number): string {
    return i === 0 ? this.localAddress : (this.alts[i - 1]?.address ?? this.localAddress);
  }

  /** The index of the local candidate on `address` (-1: the leg has none there). */
  private localIndex(address: string): number {
    if (address === this.localAddress) return 0;
    const i = this.alts.findIndex((a) => a.address === address);
    return i < 0 ? -1 : i + 1;
  }

  get alternates(): readonly AlternateAddress[] {
    return this.alts;
  }

  /**
   * ICE: `socket`, bound on another address of the leg's interface, is one more local
   * candidate: what arrives there is handled as what arrives on the leg's own socket.
   */
  addAlternate(socket: dgram.Socket, address: string, port: number, family: 4 | 6): void {
    const local = this.alts.length + 1;
    this.alts.push({ socket, address, port, family });
    socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      this.rx = local;
      try {
        this.onMessage(msg, rinfo);
      } finally {
        this.rx = 0;
      }
    });
    socket.on('error', () => {
      this.c[ERRORS]!++;
    });
    this.restartIce();
    this.resumePair();
  }

  dropAlternates(): void {
    if (this.alts.length === 0) return;
    for (const a of this.alts) closeSocket(a.socket);
    this.alts = [];
    this.sendFrom(0);
    this.restartIce();
    this.changed();
  }

  /** The agent is made again for the leg's addresses as they are now. */
  private restartIce(): void {
    if (this.ice === null) return;
    this.ice.close();
    this.ice = new IceAgent(this.ice.settings, this.families(), this.iceSocket);
  }

  private families(): (4 | 6)[] {
    return [this.family, ...this.alts.map((a) => a.family)];
  }

  /** DTLS (first byte 20-63) to the handshake; without ICE its source names the endpoint. */
  private onDtls(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.ice === null && !this.isConfirmed && (rinfo.port !== this.remotePortNo || rinfo.address !== this.remoteAddr)) this.learn(rinfo.address, rinfo.port, true);
    this.dtls!.receive(msg);
  }

  forwardTo(rtp: MediaLeg | null, rtcp: MediaLeg | null): void {
    this.forward = rtp as RelayLeg | null;
    this.rtcpForward = rtcp as RelayLeg | null;
    this.changed();
  }

  demuxTo(bundle: BundleTargets | null): void {
    const routes = bundle?.routes ?? [];
    this.demux = routes.length === 0 ? null : new BundleDemux(bundle!.midExtension, routes.map((r) => ({ mid: r.mid, payloadTypes: r.payloadTypes, target: { rtp: r.rtp as RelayLeg | null, rtcp: r.rtcp as RelayLeg | null } })));
    this.changed();
  }

  get demuxed(): boolean {
    return this.demux !== null;
  }

  setSdpEndpoint(address: string, port: number, now: number): void {
    const changed = address !== this.sdpAddr || port !== this.sdpPortNo;
    this.sdpAddr = address;
    this.sdpPortNo = port;
    if (changed || this.remotePortNo === 0) {
      this.remoteAddr = address;
      this.remotePortNo = port;
      this.isConfirmed = this.pol.learning === 'off' || this.pol.asymmetric;
      this.heuristicRank = -1;
    }
    this.learnUntil = now + LEARNING_WINDOW_MS;
    this.changed();
  }

  restore(sdp: Endpoint | null, endpoint: (Endpoint & { confirmed: boolean }) | null): void {
    if (sdp) {
      this.sdpAddr = sdp.address;
      this.sdpPortNo = sdp.port;
    }
    if (endpoint) this.setRemote(endpoint.address, endpoint.port, endpoint.confirmed);
    else if (sdp && this.remotePortNo === 0) this.setRemote(sdp.address, sdp.port, false);
    this.changed();
  }

  watchActivity(on: boolean): void {
    this.watching = on;
    this.changed();
  }

  get isWatching(): boolean {
    return this.watching;
  }

  stop(): void {
    this.stopped = true;
    this.changed();
  }

  private changed(): void {
    this.watcher?.legChanged(this);
  }

  private setRemote(address: string, port: number, confirmed: boolean): void {
    this.remoteAddr = address;
    this.remotePortNo = port;
    this.isConfirmed = confirmed;
    // With ICE's other addresses, media leaves from the pair's local address, else from one of the endpoint's family.
    if (this.alts.length === 0) return;
    const p = this.pair;
    const paired = p !== null && p.address === address && p.port === port ? this.localIndex(p.local) : -1;
    if (paired >= 0) return this.sendFrom(paired);
    const family = isIPv4(address) ? 4 : 6;
    if (family === this.txFamily) return;
    const i = this.family === family ? 0 : this.alts.findIndex((a) => a.family === family) + 1;
    if (i > 0 || this.family === family) this.sendFrom(i);
  }

  /** Media to the party leaves from local address `i` (0: the leg's own). */
  private sendFrom(i: number): void {
    const alt = i === 0 ? undefined : this.alts[i - 1];
    this.tx = alt?.socket ?? this.socket;
    this.txFamily = alt?.family ?? this.family;
  }

  private readonly onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.stopped) return;
    if (this.ice !== null || this.dtls !== null) {
      // RFC 7983 demultiplexing; what is neither STUN nor DTLS goes on as RTP/RTCP.
      const b0 = msg.length > 0 ? msg[0]! : 0;
      if (b0 < 4 && this.ice !== null) return this.onStun(msg, rinfo);
      if (b0 >= 20 && b0 <= 63 && this.dtls !== null) return this.onDtls(msg, rinfo);
      // Media before the handshake has keyed SRTP cannot be decrypted; a held client starts now.
      if (this.dtls !== null && this.srtp === null) {
        if (this.remotePortNo !== 0) this.dtls.start();
        return this.sendError();
      }
    }
    const now = Date.now();
    if (rinfo.port !== this.remotePortNo || rinfo.address !== this.remoteAddr) {
      if (!this.otherSource(msg, rinfo, now)) {
        this.c[ERRORS]!++;
        threadTotals[TOTAL_ERRORS]!++;
        return;
      }
    } else if (!this.isConfirmed) {
      this.currentSource(msg, rinfo, now);
    }
    const c = this.c;
    c[PACKETS]!++;
    c[BYTES]! += msg.length;
    c[LAST_PACKET] = now;
    threadTotals[TOTAL_PACKETS]!++;
    threadTotals[TOTAL_BYTES]! += msg.length;
    if (this.watching) {
      this.watching = false;
      this.observer?.activity(this);
      this.changed();
    }
    const b1 = msg.length > 1 ? msg[1]! : 0;
    // RFC 5761: second byte 192-223 is RTCP (on a muxed port, or stray on an RTP port).
    const rtcp = b1 >= 192 && b1 <= 223;
    if (!rtcp && !this.rtcpPort && msg.length >= 12) {
      c[SSRC] = msg.readUInt32BE(8);
      this.received.received(msg, msg.length);
    }
    let out = this.rtcpForward !== null && rtcp ? this.rtcpForward : this.forward;
    if (this.demux !== null) {
      const i = this.demux.route(msg, rtcp);
      if (i < 0) return this.sendError();
      const t = this.demux.routes[i]!.target;
      out = rtcp && t.rtcp !== null ? t.rtcp : t.rtp;
    }
    if (this.copies.length !== 0) return this.relayAndCopy(msg, rtcp, out, now, rinfo.address);
    if (out === null || out.remotePortNo === 0 || out.closed) return;
    if (this.transcoder !== null && !rtcp) return this.transcode(msg, now, rinfo.address);
    const control = rtcp || this.rtcpPort;
    if (this.srtp !== null) {
      const plain = this.srtp.receive(msg, control, now);
      if (plain === null) {
        this.sendError();
        return;
      }
      msg = plain;
    }
    if (control) this.received.control(msg, msg.length, now);
    if (this.dtmfEnds !== null && !control) this.watchEvents(msg, rinfo.address);
    if (control && !this.translatedRtcp(msg)) return this.sendError();
    if (this.filter !== null && !control) {
      const kept = this.filter.apply(msg, now);
      if (kept === null) return;
      msg = kept;
    }
    this.relayTo(out, msg, control, now);
  };

  /** The packet (plain) goes on to `out`'s party, unless a playback there holds it back; the tap gets it once sent. */
  private relayTo(out: RelayLeg, msg: Buffer, control: boolean, now: number): void {
    if (out.playout !== null && !control && out.playout.pass(msg, msg.length, now)) return;
    if (this.sendPlain(out, msg, control, now) && this.tap !== null) this.tap.packet(msg, out.localAddress, out.localPort, out.remoteAddr, out.remotePortNo);
  }

  /** A plain packet leaves through `out` (encrypted for its party when it has SRTP); false when it could not. */
  private sendPlain(out: RelayLeg, msg: Buffer, control: boolean, now: number): boolean {
    if (out.dtls !== null && out.srtp === null) {
      out.sendError();
      return false;
    }
    if (out.srtp !== null) {
      const wire = out.srtp.protect(msg, control, now);
      if (wire === null) {
        out.sendError();
        return false;
      }
      msg = wire;
    }
    if (out.tx.getSendQueueCount() >= MAX_SEND_QUEUE) {
      out.sendError();
      return false;
    }
    // Without a callback Node drops send errors silently; this one is allocated once per leg.
    out.tx.send(msg, out.remotePortNo, out.remoteAddr, out.onSent);
    return true;
  }

  /** A leg with subscribers: the packet is decrypted once, copied to each, then relayed as usual. */
  private relayAndCopy(msg: Buffer, rtcp: boolean, out: RelayLeg | null, now: number, source: string): void {
    const control = rtcp || this.rtcpPort;
    if (this.srtp !== null) {
      const plain = this.srtp.receive(msg, control, now);
      if (plain === null) return this.sendError();
      msg = plain;
    }
    if (control) this.received.control(msg, msg.length, now);
    if (this.dtmfEnds !== null && !control) this.watchEvents(msg, source);
    if (this.filter !== null && !control) {
      const kept = this.filter.apply(msg, now);
      if (kept === null) return;
      msg = kept;
    }
    const copies = this.copies;
    for (let i = 0; i < copies.length; i++) {
      const c = copies[i]!;
      if (c.transcoder !== null) {
        if (!control) c.transcoder.push(msg, msg.length);
        continue;
      }
      const to = rtcp && c.rtcp !== null ? c.rtcp : c.rtp;
      if (to.remotePortNo !== 0 && !to.closed && !to.stopped) this.sendPlain(to, msg, control, now);
    }
    if (out === null || out.remotePortNo === 0 || out.closed) return;
    if (this.transcoder === null) this.relayTo(out, msg, control, now);
    else if (!control) this.transcoder.push(msg, msg.length);
  }

  /** RTP goes through the pipeline (decrypted first); RTCP of a transcoded stream stops here. */
  private transcode(msg: Buffer, now: number, source: string): void {
    if (this.srtp !== null) {
      const plain = this.srtp.receive(msg, false, now);
      if (plain === null) return this.sendError();
      msg = plain;
    }
    if (this.dtmfEnds !== null) this.watchEvents(msg, source);
    if (this.filter !== null) {
      const kept = this.filter.apply(msg, now);
      if (kept === null) return;
      msg = kept;
    }
    this.transcoder!.push(msg, msg.length);
  }

  /** RTCP about a converted stream speaks of what its receiver gets (see RtcpTranslation); false: malformed. */
  private translatedRtcp(msg: Buffer): boolean {
    const side = this.rtcpPort ? this.rtcpOf : this;
    if (side === null) return true;
    const own = side.converted;
    const peer = side.forward?.converted ?? null;
    return (own === null && peer === null) || translateRtcp(msg, msg.length, own, peer);
  }

  private readonly onSent = (err: Error | null): void => {
    if (err) this.sendError();
  };

  /** A packet that could not leave through this leg (send error, full queue) counts against it. */
  private sendError(): void {
    this.c[ERRORS]!++;
    threadTotals[TOTAL_ERRORS]!++;
  }

  /** A packet from the endpoint being learned: it keeps its heuristic rank and is confirmed after the window. */
  private currentSource(msg: Buffer, rinfo: dgram.RemoteInfo, now: number): void {
    if (this.strayRtcp(msg)) return;
    if (this.pol.learning === 'heuristic') this.heuristicRank = Math.max(this.heuristicRank, this.rank(rinfo));
    if (this.pol.learning === 'immediate' || now >= this.learnUntil) {
      this.isConfirmed = true;
      this.observer?.endpointChanged(this);
      this.changed();
    }
  }

  /** A packet from a source other than the current endpoint: learn, hand over, accept or drop. */
  private otherSource(msg: Buffer, rinfo: dgram.RemoteInfo, now: number): boolean {
    if (this.pol.asymmetric || this.pol.learning === 'off') {
      return !this.pol.strictSource || this.remotePortNo === 0;
    }
    if (this.strayRtcp(msg)) return !(this.isConfirmed && this.pol.strictSource);
    if (this.isConfirmed) {
      if (this.pol.strictSource) return false;
      if (this.pol.mediaHandover) this.learn(rinfo.address, rinfo.port, true);
      return true;
    }
    switch (this.pol.learning) {
      case 'immediate':
        this.learn(rinfo.address, rinfo.port, true);
        return true;
      case 'delayed':
        this.learn(rinfo.address, rinfo.port, now >= this.learnUntil);
        return true;
      case 'heuristic': {
        const rank = this.rank(rinfo);
        if (now >= this.learnUntil) this.learn(rinfo.address, rinfo.port, true);
        else if (rank >= this.heuristicRank) {
          this.heuristicRank = rank;
          this.learn(rinfo.address, rinfo.port, false);
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
    const sameIp = rinfo.address === this.sdpAddr;
    const samePort = rinfo.port === this.sdpPortNo;
    return sameIp && samePort ? 3 : sameIp ? 2 : samePort ? 1 : 0;
  }

  private learn(address: string, port: number, confirm: boolean): void {
    this.setRemote(address, port, confirm);
    this.observer?.endpointChanged(this);
    this.changed();
  }

  close(): void {
    if (this.closed) return;
    this.end();
    closeSocket(this.socket);
  }

  /** Ends the leg as close() does but leaves its socket bound, without listeners, for another leg. */
  detach(): dgram.Socket {
    if (!this.closed) this.end();
    this.socket.removeAllListeners('error');
    return this.socket;
  }

  private end(): void {
    this.closed = true;
    this.transcoder?.close();
    this.transcoder = null;
    this.transcodeId = '';
    this.playout?.close();
    this.filter?.close();
    this.filter = null;
    this.controlId = '';
    this.dtmfReporting = null;
    this.dtmfEnds = null;
    this.dtmfId = '';
    for (const c of this.copies) c.transcoder?.close();
    this.copies = NO_COPIES;
    this.dtls?.close();
    this.dtls = null;
    this.ice?.close();
    this.ice = null;
    for (const a of this.alts) closeSocket(a.socket);
    this.alts = [];
    this.sendFrom(0);
    this.changed();
    this.forward = null;
    this.rtcpForward = null;
    this.rtcpOf = null;
    this.demux = null;
    this.tap = null;
    this.observer = null;
    this.socket.removeAllListeners('message');
  }
}

function closeSocket(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    /* already closed */
  }
}

const sameKeying = (a: SrtpKeying, b: SrtpKeying): boolean =>
  a.suite === b.suite && Buffer.compare(a.key, b.key) === 0 && Buffer.compare(a.salt, b.salt) === 0;

/** Whether a record's handshake keys are the ones a leg uses (no keys in the record: nothing to change). */
function sameDtlsKeys(recorded: DtlsKeys | undefined, made: DtlsKeys | null): boolean {
  if (recorded === undefined) return true;
  return made !== null && sameKeying(recorded.recv, made.recv) && sameKeying(recorded.send, made.send);
}
