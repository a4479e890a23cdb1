import { expect } from 'vitest';
import { rng } from './health.js';
import type { Dict } from './NgClient.js';
import type { Relay } from './Relay.js';
import { RtpEndpoint, type ReceivedPacket } from './RtpEndpoint.js';
import { readSdp, type SdpMedia } from './sdp.js';

export const MID_EXTENSION = 3;
export const PLAIN_FLAGS = { ICE: 'remove', DTLS: 'off', 'received-from': ['IP4', '127.0.0.1'] };

/** A bundling party: audio and video on one port with rtcp-mux, a=mid and the MID header extension. */
export function bundledSdp(port: number, opts: { bundleOnly?: boolean; address?: string } = {}): string {
  const address = opts.address ?? '127.0.0.1';
  return [
    'v=0', `o=- 1 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0', 'a=group:BUNDLE a v',
    `m=audio ${port} RTP/AVP 0`, 'a=mid:a', `a=extmap:${MID_EXTENSION} urn:ietf:params:rtp-hdrext:sdes:mid`, 'a=rtpmap:0 PCMU/8000', 'a=rtcp-mux', 'a=sendrecv',
    `m=video ${opts.bundleOnly ? 0 : port} RTP/AVP 96`, 'a=mid:v', ...(opts.bundleOnly ? ['a=bundle-only'] : []), `a=extmap:${MID_EXTENSION} urn:ietf:params:rtp-hdrext:sdes:mid`, 'a=rtpmap:96 VP8/90000', 'a=rtcp-mux', 'a=sendrecv', '',
  ].join('\r\n');
}

/** A phone without BUNDLE: audio and video on ports of their own. */
export function phoneSdp(audio: number, video: number, extra: string[] = [], address = '127.0.0.1'): string {
  return [
    'v=0', `o=- 2 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0',
    `m=audio ${audio} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ...extra, 'a=sendrecv',
    `m=video ${video} RTP/AVP 96`, 'a=rtpmap:96 VP8/90000', ...extra, 'a=sendrecv', '',
  ].join('\r\n');
}

const rand = rng(0xb0d1e);

/** An RTP packet with random payload bytes, optionally carrying the MID extension (one-byte form, RFC 8285). */
export function bundlePacket(seq: number, ssrc: number, pt: number, mid?: string): Buffer {
  const payload = Buffer.from(Array.from({ length: 40 }, () => Math.floor(rand() * 256)));
  const head = Buffer.alloc(12);
  head[0] = mid ? 0x90 : 0x80;
  head[1] = pt;
  head.writeUInt16BE(seq, 2);
  head.writeUInt32BE(seq * 160, 4);
  head.writeUInt32BE(ssrc, 8);
  if (!mid) return Buffer.concat([head, payload]);
  const ext = Buffer.alloc(4 + 4 * Math.ceil((1 + mid.length) / 4));
  ext.writeUInt16BE(0xbede, 0);
  ext.writeUInt16BE((ext.length - 4) / 4, 2);
  ext[4] = (MID_EXTENSION << 4) | (mid.length - 1);
  ext.write(mid, 5, 'latin1');
  return Buffer.concat([head, ext, payload]);
}

export const hex = (list: readonly (ReceivedPacket | Buffer)[]): string[] => list.map((p) => ('data' in p ? p.data : p).toString('hex'));

/**
 * A bundling caller (one socket) and a phone with an audio and a video socket, in a call
 * through the relay with `bundle: [accept]`: the caller's answer puts both m= lines on one port.
 */
export class BundledCall {
  /** The relay's one port towards the caller; its ports towards the phone's audio and video. */
  bundlePort = 0;
  toPhone: SdpMedia[] = [];
  offerSdp = '';
  answerSdp = '';
  private seq = 0;

  private constructor(
    readonly callId: string,
    readonly caller: RtpEndpoint,
    readonly phoneAudio: RtpEndpoint,
    readonly phoneVideo: RtpEndpoint,
  ) {}

  static async place(relay: Relay, callId: string, opts: { bundleOnly?: boolean } = {}): Promise<BundledCall> {
    const c = new BundledCall(callId, await RtpEndpoint.open(), await RtpEndpoint.open(), await RtpEndpoint.open());
    const keys: Dict = { 'call-id': callId, 'from-tag': 'caller', ...PLAIN_FLAGS };
    const o = await relay.ng.ok({ ...keys, command: 'offer', sdp: bundledSdp(c.caller.port, opts), bundle: ['accept'] });
    c.offerSdp = o['sdp'] as string;
    c.toPhone = readSdp(c.offerSdp).medias;
    const a = await relay.ng.ok({ ...keys, command: 'answer', 'to-tag': 'callee', sdp: phoneSdp(c.phoneAudio.port, c.phoneVideo.port) });
    c.answerSdp = a['sdp'] as string;
    c.bundlePort = readSdp(c.answerSdp).medias[0]!.port;
    return c;
  }

  /**
   * Audio and video interleaved on the one port (the first packets with MID, then without; a
   * new video SSRC by payload type alone) arrive byte for byte at the phone's audio and video
   * sockets only; the phone's audio and video reach the caller from the one port.
   */
  async demultiplexes(n = 10): Promise<void> {
    for (const e of [this.caller, this.phoneAudio, this.phoneVideo]) e.received.length = 0;
    const audio: Buffer[] = [];
    const video: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const s = this.seq++;
      const withMid = i < n / 4;
      audio.push(bundlePacket(s, 0xa0a0, 0, withMid ? 'a' : undefined));
      video.push(bundlePacket(s, i < (2 * n) / 3 ? 0x7e0 : 0x7e1, 96, withMid ? 'v' : undefined));
    }
    for (let i = 0; i < n; i++) {
      this.caller.send(audio[i]!, this.bundlePort, '127.0.0.1');
      this.caller.send(video[i]!, this.bundlePort, '127.0.0.1');
    }
    await this.phoneAudio.waitFor(n);
    await this.phoneVideo.waitFor(n);
    expect(hex(this.phoneAudio.received)).toEqual(hex(audio));
    expect(hex(this.phoneVideo.received)).toEqual(hex(video));
    expect(this.phoneAudio.received.every((p) => p.port === this.toPhone[0]!.port)).toBe(true);
    expect(this.phoneVideo.received.every((p) => p.port === this.toPhone[1]!.port)).toBe(true);
    const back = [bundlePacket(this.seq, 0x5a, 0), bundlePacket(this.seq++, 0x5b, 96)];
    this.phoneAudio.send(back[0]!, this.toPhone[0]!.port, '127.0.0.1');
    this.phoneVideo.send(back[1]!, this.toPhone[1]!.port, '127.0.0.1');
    await this.caller.waitFor(2);
    expect(new Set(hex(this.caller.received))).toEqual(new Set(hex(back)));
    expect(this.caller.received.every((p) => p.port === this.bundlePort)).toBe(true);
  }

  close(): void {
    for (const e of [this.caller, this.phoneAudio, this.phoneVideo]) e.close();
  }
}
