import { BYTES, ERRORS, LAST_PACKET, PACKETS, SSRC } from '../LegCounters.js';
import type { AlternateAddress, BundleTargets, Endpoint, FanOutTarget, IcePair, LegCrypto, LegObserver, LegPolicy, LegSrtpState, MediaLeg, PacketTap } from '../MediaPlane.js';
import { cryptoIdentity } from '../transforms/SrtpTransform.js';
import type { PlaybackSettings } from '../engine/PlaybackSettings.js';
import type { TranscodeSettings } from '../engine/TranscodeSettings.js';
import { isActive, type MediaControl } from '../MediaControl.js';
import type { DtmfReporting } from '../DtmfReport.js';
import type { OffloadableLeg, OffloadedCounts, OffloadWatcher } from '../Offload.js';
import type { LegState, ToWorker } from './protocol.js';

const DEFAULT_POLICY: LegPolicy = { learning: 'delayed', strictSource: false, mediaHandover: false, asymmetric: false };

/** How a leg proxy reaches the worker that owns its socket. */
export interface LegHost {
  send(m: ToWorker): void;
  /** The leg is closed: its worker closes the socket, or keeps it bound with its pair's other half for a later call. */
  retire(leg: WorkerLeg): void;
}

/**
 * The control thread's handle on a leg whose socket a media worker owns: commands go to the
 * worker as messages; counters are read from shared memory; endpoint state comes back as
 * events (and is current once the plane has settled).
 */
export class WorkerLeg implements MediaLeg, OffloadableLeg {
  private state: LegState = { remoteAddress: '', remotePort: 0, sdpAddress: '', sdpPort: 0, confirmed: false, ice: null };
  private pol: LegPolicy = DEFAULT_POLICY;
  forward: WorkerLeg | null = null;
  rtcpForward: WorkerLeg | null = null;
  /** Subscribers' legs that get copies, as last sent to the worker (as text, to skip unchanged lists). */
  private fanOut: ToWorker & { op: 'fanout' } = { op: 'fanout', id: 0, targets: [] };
  private fanOutId = '[]';
  /** BUNDLE routes as last sent to the worker (as text, to skip unchanged ones). */
  private demux: ToWorker & { op: 'demux' } = { op: 'demux', id: 0, midExtension: 0, routes: [] };
  private demuxId = '';
  private tap: PacketTap | null = null;
  private crypto: LegCrypto | null = null;
  private srtp: LegSrtpState | null = null;
  private transcoding: TranscodeSettings | null = null;
  private transcodingId = '';
  /** An RTCP port of a converted stream: its party's RTP leg. */
  private rtcpOf: WorkerLeg | null = null;
  /** The playback last asked for; `played`: the leg renumbers its party's stream (stays in userspace). */
  private playback: PlaybackSettings | null = null;
  /** The party's RTCP leg the playback's sender reports leave through (null: this one). */
  private playbackRtcp: WorkerLeg | null = null;
  private played = false;
  private control: MediaControl | null = null;
  private controlId = '';
  private dtmf: DtmfReporting | null = null;
  private dtmfId = '';
  private observer: LegObserver | null = null;
  /** ICE: the addresses the worker bound for this leg besides its own. */
  private alts: AlternateAddress[] = [];
  private stopped = false;
  private watching = false;
  private closed = false;
  readonly offloadedCounts: OffloadedCounts = { packets: 0, bytes: 0, errors: 0, lastPacket: 0, ssrc: 0 };
  private isOffloaded = false;

  constructor(
    readonly id: number,
    public host: LegHost,
    /** This leg's counters in the worker's shared memory (LegCounters layout). */
    public counters: Float64Array<ArrayBufferLike>,
    public slot: number,
    readonly localAddress: string,
    readonly localPort: number,
    readonly family: 4 | 6,
    readonly rtcpOnly: boolean,
    private readonly watcher: OffloadWatcher | null,
  ) {}

  get remoteAddress(): string {
    return this.state.remoteAddress;
  }

  get offloaded(): boolean {
    return this.isOffloaded;
  }
  /** The worker's leg is told: what it saw of the party's stream has gaps from then on. */
  set offloaded(on: boolean) {
    if (on && !this.isOffloaded) this.host.send({ op: 'offloaded', id: this.id });
    this.isOffloaded = on;
  }

  get remotePort(): number {
    return this.state.remotePort;
  }
  get sdpAddress(): string {
    return this.state.sdpAddress;
  }
  get sdpPort(): number {
    return this.state.sdpPort;
  }
  get confirmed(): boolean {
    return this.state.confirmed;
  }
  get policy(): Readonly<LegPolicy> {
    return this.pol;
  }
  get packets(): number {
    return this.counters[PACKETS]! + this.offloadedCounts.packets;
  }
  get bytes(): number {
    return this.counters[BYTES]! + this.offloadedCounts.bytes;
  }
  get errors(): number {
    return this.counters[ERRORS]! + this.offloadedCounts.errors;
  }
  get lastPacket(): number {
    return Math.max(this.counters[LAST_PACKET]!, this.offloadedCounts.lastPacket);
  }
  get ssrc(): number {
    const o = this.offloadedCounts;
    return o.lastPacket > this.counters[LAST_PACKET]! && o.ssrc !== 0 ? o.ssrc : this.counters[SSRC]!;
  }
  get isClosed(): boolean {
    return this.closed;
  }
  get isStopped(): boolean {
    return this.stopped || this.closed;
  }
  get isWatching(): boolean {
    return this.watching;
  }
  get tapped(): boolean {
    return this.tap !== null;
  }
  get copied(): boolean {
    return this.fanOut.targets.length !== 0;
  }
  get transformed(): boolean {
    return this.crypto !== null || this.transcoding !== null || this.played || this.control !== null || this.alts.length !== 0 || this.rtcpOf !== null || (this.dtmf !== null && this.dtmf.events.length !== 0);
  }

  get alternates(): readonly AlternateAddress[] {
    return this.alts;
  }

  get icePair(): IcePair | null {
    return this.state.ice;
  }

  restoreIcePair(pair: IcePair): void {
    this.state = { ...this.state, ice: pair };
    this.host.send({ op: 'icePair', id: this.id, pair });
  }

  /** The worker bound `a` for this leg (or a new worker bound it again). */
  addAlternate(a: AlternateAddress): void {
    this.alts.push(a);
    this.changed();
  }

  /** Forgets the alternates (a new worker could not bind them again: they are gone). */
  forgetAlternates(): readonly AlternateAddress[] {
    const old = this.alts;
    this.alts = [];
    return old;
  }

  dropAlternates(): void {
    if (this.alts.length === 0) return;
    this.alts = [];
    this.host.send({ op: 'dropAlts', id: this.id });
    this.changed();
  }

  setPolicy(policy: LegPolicy): void {
    const p = this.pol;
    // Every signalling round sets it again; unchanged, it costs the worker nothing.
    if (p.learning === policy.learning && p.strictSource === policy.strictSource && p.mediaHandover === policy.mediaHandover && p.asymmetric === policy.asymmetric) return;
    this.pol = { ...policy };
    this.host.send({ op: 'policy', id: this.id, policy: this.pol });
    this.changed();
  }

  setObserver(observer: LegObserver | null): void {
    this.observer = observer;
  }

  setTap(tap: PacketTap | null): void {
    if (tap === this.tap) return;
    if ((tap !== null) !== (this.tap !== null)) this.host.send({ op: 'tap', id: this.id, on: tap !== null });
    this.tap = tap;
    this.changed();
  }

  setCrypto(crypto: LegCrypto | null): void {
    const c = crypto === null || (crypto.recv === null && crypto.send === null && !crypto.made && !crypto.dtls && !crypto.ice) ? null : crypto;
    if (cryptoIdentity(c) === cryptoIdentity(this.crypto)) return;
    this.crypto = c;
    this.host.send({ op: 'crypto', id: this.id, crypto: c });
    this.changed();
  }

  get srtpState(): LegSrtpState | null {
    return this.srtp;
  }

  restoreSrtp(state: LegSrtpState): void {
    this.srtp = state;
    this.host.send({ op: 'srtp', id: this.id, state });
  }

  /** The worker's word on where the leg's SRTP streams stand. */
  applySrtp(state: LegSrtpState): void {
    this.srtp = state;
    this.observer?.srtpChanged(this);
  }

  setTranscoding(settings: TranscodeSettings | null): void {
    const id = settings === null ? '' : JSON.stringify(settings);
    if (id === this.transcodingId) return;
    this.transcoding = settings;
    this.transcodingId = id;
    this.host.send({ op: 'transcode', id: this.id, settings });
    this.changed();
  }

  setPlayback(settings: PlaybackSettings | null, rtcp: MediaLeg | null = null): void {
    if (settings?.id === this.playback?.id) return;
    if (settings === null && !this.played) return;
    this.playback = settings;
    this.playbackRtcp = rtcp as WorkerLeg | null;
    this.host.send({ op: 'play', id: this.id, settings, rtcp: this.playbackRtcp?.id ?? null });
    if (!this.played) {
      this.played = true;
      this.changed();
    }
  }

  setMediaControl(control: MediaControl | null): void {
    const c = isActive(control) ? control : null;
    const id = c === null ? '' : JSON.stringify(c);
    if (id === this.controlId) return;
    this.control = c;
    this.controlId = id;
    this.host.send({ op: 'control', id: this.id, control: c });
    this.changed();
  }

  setDtmfReporting(reporting: DtmfReporting | null): void {
    const id = reporting === null ? '' : JSON.stringify(reporting);
    if (id === this.dtmfId) return;
    this.dtmf = reporting;
    this.dtmfId = id;
    this.host.send({ op: 'dtmf', id: this.id, reporting });
    this.changed();
  }

  translateRtcpOf(rtp: MediaLeg | null): void {
    if (rtp === this.rtcpOf) return;
    this.rtcpOf = rtp as WorkerLeg | null;
    this.host.send({ op: 'rtcpOf', id: this.id, rtp: this.rtcpOf?.id ?? null });
    this.changed();
  }

  forwardTo(rtp: MediaLeg | null, rtcp: MediaLeg | null): void {
    if (rtp === this.forward && rtcp === this.rtcpForward) return;
    this.forward = rtp as WorkerLeg | null;
    this.rtcpForward = rtcp as WorkerLeg | null;
    this.host.send({ op: 'forward', id: this.id, rtp: this.forward?.id ?? null, rtcp: this.rtcpForward?.id ?? null });
    this.changed();
  }

  demuxTo(bundle: BundleTargets | null): void {
    const routes = (bundle?.routes ?? []).map((r) => ({ mid: r.mid, payloadTypes: [...r.payloadTypes], rtp: (r.rtp as WorkerLeg | null)?.id ?? null, rtcp: (r.rtcp as WorkerLeg | null)?.id ?? null }));
    const m = { op: 'demux' as const, id: this.id, midExtension: bundle?.midExtension ?? 0, routes };
    const id = routes.length === 0 ? '' : JSON.stringify(m);
    if (id === this.demuxId) return;
    this.demuxId = id;
    this.demux = m;
    this.host.send(m);
    this.changed();
  }

  get demuxed(): boolean {
    return this.demux.routes.length !== 0;
  }

  fanOutTo(targets: readonly FanOutTarget[]): void {
    const list = targets.map((t) => ({ rtp: (t.rtp as WorkerLeg).id, rtcp: (t.rtcp as WorkerLeg | null)?.id ?? null, transcoding: t.transcoding }));
    const id = JSON.stringify(list);
    if (id === this.fanOutId) return;
    this.fanOutId = id;
    this.fanOut = { op: 'fanout', id: this.id, targets: list };
    this.host.send(this.fanOut);
    this.changed();
  }

  setSdpEndpoint(address: string, port: number, now: number): void {
    this.host.send({ op: 'sdp', id: this.id, address, port, now });
  }

  restore(sdp: Endpoint | null, endpoint: (Endpoint & { confirmed: boolean }) | null): void {
    this.host.send({ op: 'restore', id: this.id, sdp, endpoint });
  }

  watchActivity(on: boolean): void {
    this.watching = on;
    this.host.send({ op: 'watch', id: this.id, on });
    this.changed();
  }

  stop(): void {
    this.stopped = true;
    this.host.send({ op: 'stop', id: this.id });
    this.changed();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.changed();
    this.forward = null;
    this.rtcpForward = null;
    this.rtcpOf = null;
    this.tap = null;
    this.observer = null;
    this.host.retire(this);
  }

  /** The worker's word on the endpoint; `learned`: from a packet (the observer hears of it). */
  applyState(state: LegState, learned: boolean): void {
    this.state = state;
    if (learned) this.observer?.endpointChanged(this);
    this.changed();
  }

  applyActivity(): void {
    this.watching = false;
    this.observer?.activity(this);
    this.changed();
  }

  tapPacket(data: Buffer, src: Endpoint, dst: Endpoint): void {
    this.tap?.packet(data, src.address, src.port, dst.address, dst.port);
  }

  /** Everything a new worker needs to carry this leg on as it was (after its old worker died). */
  replay(): ToWorker[] {
    const m: ToWorker[] = [
      { op: 'policy', id: this.id, policy: this.pol },
      { op: 'restore', id: this.id, sdp: { address: this.state.sdpAddress, port: this.state.sdpPort }, endpoint: this.state.remotePort ? { address: this.state.remoteAddress, port: this.state.remotePort, confirmed: this.state.confirmed } : null },
    ];
    // The new worker's agent carries on with the pair ICE had selected, from the same address.
    if (this.state.ice) m.push({ op: 'icePair', id: this.id, pair: this.state.ice });
    if (this.watching) m.push({ op: 'watch', id: this.id, on: true });
    if (this.tap) m.push({ op: 'tap', id: this.id, on: true });
    // A new worker continues the SRTP streams from where the old one last reported them.
    if (this.srtp) m.push({ op: 'srtp', id: this.id, state: this.srtp });
    if (this.crypto) m.push({ op: 'crypto', id: this.id, crypto: this.crypto });
    if (this.transcoding) m.push({ op: 'transcode', id: this.id, settings: this.transcoding });
    if (this.control) m.push({ op: 'control', id: this.id, control: this.control });
    if (this.dtmf) m.push({ op: 'dtmf', id: this.id, reporting: this.dtmf });
    if (this.stopped) m.push({ op: 'stop', id: this.id });
    return m;
  }

  /** Links are replayed once every leg of the worker exists again. */
  replayLinks(): ToWorker[] {
    const forward: ToWorker = { op: 'forward', id: this.id, rtp: this.forward?.id ?? null, rtcp: this.rtcpForward?.id ?? null };
    const links: ToWorker[] = this.fanOut.targets.length === 0 ? [forward] : [forward, this.fanOut];
    if (this.rtcpOf !== null) links.push({ op: 'rtcpOf', id: this.id, rtp: this.rtcpOf.id });
    // A playback goes on from where it stands by now (it counts from its start time), its reports through the RTCP leg.
    if (this.playback) links.push({ op: 'play', id: this.id, settings: this.playback, rtcp: this.playbackRtcp?.id ?? null });
    return this.demuxed ? [...links, this.demux] : links;
  }

  private changed(): void {
    this.watcher?.legChanged(this);
  }
}
