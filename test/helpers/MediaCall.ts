import type { Dict } from './NgClient.js';
import type { Relay } from './Relay.js';
import { RtpEndpoint, rtpPacket } from './RtpEndpoint.js';
import { audioSdp, readSdp, type SdpMedia } from './sdp.js';

let seq = 0;

/** A call-id no other test in the run uses. */
export function uniqueCallId(prefix: string): string {
  return `${prefix}-${process.pid}-${++seq}`;
}

export interface MediaCallOptions {
  callId?: string;
  /** Loopback address the phones bind (127.0.0.1 or ::1). */
  address?: string;
  /** Extra keys for offer and answer (flags, `endpoint-learning`, `address family` ...). */
  offer?: Dict;
  answer?: Dict;
  /** Full SDP texts instead of audioSdp() for the phones' own ports. */
  callerSdp?: (c: RtpEndpoint) => string;
  calleeSdp?: (c: RtpEndpoint) => string;
}

/**
 * A two-party call through the relay with one real UDP phone per side. `toCaller` is the
 * relay's media as the answer SDP gives it (the caller sends there), `toCallee` as the offer
 * SDP gives it (the callee sends there).
 */
export class MediaCall {
  toCaller!: SdpMedia;
  toCallee!: SdpMedia;
  offerSdp = '';
  answerSdp = '';

  private constructor(
    readonly relay: Relay,
    readonly callId: string,
    readonly caller: RtpEndpoint,
    readonly callee: RtpEndpoint,
    readonly opts: MediaCallOptions,
  ) {}

  static async open(relay: Relay, opts: MediaCallOptions = {}): Promise<MediaCall> {
    const address = opts.address ?? '127.0.0.1';
    const caller = await RtpEndpoint.open(address);
    const callee = await RtpEndpoint.open(address);
    return new MediaCall(relay, opts.callId ?? uniqueCallId('call'), caller, callee, opts);
  }

  /** Offer and answer with the phones' SDPs; returns this for chaining. */
  static async establish(relay: Relay, opts: MediaCallOptions = {}): Promise<MediaCall> {
    const call = await MediaCall.open(relay, opts);
    await call.offer();
    await call.answer();
    return call;
  }

  private keys(): Dict {
    return { 'call-id': this.callId, 'from-tag': 'caller', 'received-from': ['IP4', '127.0.0.1'] };
  }

  async offer(sdp?: string, extra: Dict = {}): Promise<Dict> {
    const text = sdp ?? this.opts.callerSdp?.(this.caller) ?? audioSdp(this.caller.address, this.caller.port);
    const r = await this.relay.ng.ok({ ...this.keys(), ...this.opts.offer, ...extra, command: 'offer', sdp: text });
    this.offerSdp = r['sdp'] as string;
    this.toCallee = readSdp(this.offerSdp).medias[0]!;
    return r;
  }

  async answer(sdp?: string, extra: Dict = {}): Promise<Dict> {
    const text = sdp ?? this.opts.calleeSdp?.(this.callee) ?? audioSdp(this.callee.address, this.callee.port);
    const r = await this.relay.ng.ok({ ...this.keys(), 'to-tag': 'callee', ...this.opts.answer, ...extra, command: 'answer', sdp: text });
    this.answerSdp = r['sdp'] as string;
    this.toCaller = readSdp(this.answerSdp).medias[0]!;
    return r;
  }

  /** A re-INVITE from the caller: offer + answer again (same tags). */
  async reinvite(callerSdp: string, calleeSdp: string, extra: Dict = {}): Promise<void> {
    await this.relay.ng.ok({ ...this.keys(), 'to-tag': 'callee', ...this.opts.offer, ...extra, command: 'offer', sdp: callerSdp });
    await this.answer(calleeSdp, extra);
  }

  query(): Promise<Dict> {
    return this.relay.ng.ok({ command: 'query', 'call-id': this.callId });
  }

  delete(extra: Dict = {}): Promise<Dict> {
    return this.relay.ng.ok({ command: 'delete', 'call-id': this.callId, 'from-tag': 'caller', ...extra });
  }

  /** Sends `n` RTP packets from the caller to its relay port (seq from `first`). */
  callerSends(n: number, first = 0, ssrc = 0x1111): void {
    for (let i = 0; i < n; i++) this.caller.send(rtpPacket(first + i, ssrc), this.toCaller.port, this.toCaller.address!);
  }

  calleeSends(n: number, first = 0, ssrc = 0x2222): void {
    for (let i = 0; i < n; i++) this.callee.send(rtpPacket(first + i, ssrc), this.toCallee.port, this.toCallee.address!);
  }

  close(): void {
    this.caller.close();
    this.callee.close();
  }
}

/** The per-party media streams of a `query` reply: tags[tag].medias[i].streams. */
export interface StreamStats {
  'local port': number;
  endpoint?: { address: string; port: number };
  'last packet': number;
  flags: string[];
  SSRC?: number;
  stats: { packets: number; bytes: number; errors: number };
}

export function streamsOf(reply: Dict, tag: string, mediaIndex = 0): StreamStats[] {
  const tags = reply['tags'] as Record<string, { medias: { streams: StreamStats[] }[] }>;
  return tags[tag]!.medias[mediaIndex]!.streams;
}

/** Sends `n` packets at `pps` from `send(i)`; resolves when the last one is out. */
export async function paced(n: number, pps: number, send: (i: number) => void): Promise<void> {
  const start = Date.now();
  for (let i = 0; i < n; i++) {
    send(i);
    const due = start + ((i + 1) * 1000) / pps;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
