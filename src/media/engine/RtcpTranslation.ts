/**
 * RTCP of a converted stream, rewritten as rtpengine 10.5 rewrites it: the receiver of a
 * converted stream sees the relay's SSRC, sequence numbers and timestamps, so the reports about
 * it and from its sender must speak of those, not of what the sender sent.
 *
 * - A report from the sender of a converted stream carries the stream's SSRC as the receiver
 *   gets it, and a sender report's packet and octet counts and RTP timestamp are those of the
 *   packets the relay sent (the last one's timestamp); its NTP time stays.
 * - A report block about a converted stream the reporter receives names the original sender's
 *   SSRC, with the loss and highest sequence number the relay saw of that sender's stream
 *   (jitter and the SR references stay).
 *
 * Everything is rewritten in place; nothing is allocated per packet.
 */

import type { ReceivedStream } from './ReceivedStream.js';

const SR = 200;
const RR = 201;

/** One direction of a converted stream: what the relay received from the sender and what it sent on. */
export class ConvertedStream {
  outPackets = 0;
  /** Payload octets sent (RFC 3550's sender octet count). */
  outOctets = 0;
  lastOutTs = 0;

  /**
   * `outSsrc`: the SSRC of the converted stream; `input`: the sender's stream as the leg
   * receives it (the leg counts it for every RTP packet, converted or not).
   */
  constructor(
    readonly outSsrc: number,
    readonly input: ReceivedStream,
  ) {}

  /** A packet of the converted stream, as sent. */
  sent(p: Uint8Array, length: number): void {
    this.outPackets++;
    this.outOctets += length - 12;
    this.lastOutTs = ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0;
  }

  /** The sender's SSRC (the last seen). */
  get inSsrc(): number {
    return this.input.ssrc;
  }

  get inPackets(): number {
    return this.input.packets;
  }

  get highestSeq(): number {
    return this.input.highestSeq;
  }

  get lost(): number {
    return this.input.lost;
  }
}

const u32 = (p: Uint8Array, at: number): number => ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;

function put32(p: Uint8Array, at: number, v: number): void {
  p[at] = v >>> 24;
  p[at + 1] = (v >>> 16) & 0xff;
  p[at + 2] = (v >>> 8) & 0xff;
  p[at + 3] = v & 0xff;
}

/**
 * Rewrites a plain (compound) RTCP packet from a party: `own` is the converted stream of what
 * the party sends, `peer` the converted stream it receives (null: that direction passes
 * unchanged). False when the packet is malformed (it is not relayed then).
 */
export function translateRtcp(p: Uint8Array, length: number, own: ConvertedStream | null, peer: ConvertedStream | null): boolean {
  let at = 0;
  while (at < length) {
    if (at + 8 > length || p[at]! >> 6 !== 2) return false;
    const end = at + 4 + 4 * ((p[at + 2]! << 8) | p[at + 3]!);
    if (end > length) return false;
    const type = p[at + 1]!;
    const sender = own !== null && own.inPackets > 0 && u32(p, at + 4) === own.inSsrc;
    if (sender) put32(p, at + 4, own.outSsrc);
    let block = -1;
    if (type === SR && at + 28 <= end) {
      if (sender && own.outPackets > 0) {
        put32(p, at + 16, own.lastOutTs);
        put32(p, at + 20, own.outPackets >>> 0);
        put32(p, at + 24, own.outOctets >>> 0);
      }
      block = at + 28;
    } else if (type === RR) {
      block = at + 8;
    }
    if (block >= 0 && peer !== null && peer.inPackets > 0) {
      for (let i = p[at]! & 0x1f; i > 0 && block + 24 <= end; i--, block += 24) {
        if (u32(p, block) !== peer.outSsrc) continue;
        put32(p, block, peer.inSsrc);
        const lost = peer.lost;
        const expected = lost + peer.inPackets;
        p[block + 4] = Math.min(255, Math.floor((lost * 256) / expected));
        p[block + 5] = lost >>> 16;
        p[block + 6] = (lost >>> 8) & 0xff;
        p[block + 7] = lost & 0xff;
        put32(p, block + 8, peer.highestSeq >>> 0);
      }
    }
    at = end;
  }
  return true;
}
