/** Loss counts as RFC 3550 carries them: 24 bits, signed. */
const MAX_LOST = 0x7fffff;

/**
 * What a relay saw of one party's RTP stream (the last SSRC it sent), for the report blocks of
 * RTCP the relay writes or rewrites: packets, RFC 3550's extended highest sequence number and
 * cumulative loss, and the party's last sender report. Updated in place; nothing allocated.
 */
export class ReceivedStream {
  /** The sender's SSRC (the last seen). */
  ssrc = 0;
  packets = 0;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  /** The middle 32 bits of the NTP time of the party's last sender report (RFC 3550's LSR). */
  lastSr = 0;
  /** Epoch ms that report arrived (0: none yet). */
  lastSrAt = 0;
  /** The SSRC that report was about. */
  lastSrSsrc = 0;

  /** An RTP packet from the sender (its header plain). */
  received(p: Uint8Array, length: number): void {
    if (length < 12) return;
    const ssrc = ((p[8]! << 24) | (p[9]! << 16) | (p[10]! << 8) | p[11]!) >>> 0;
    const seq = (p[2]! << 8) | p[3]!;
    if (this.packets === 0 || ssrc !== this.ssrc) {
      this.ssrc = ssrc;
      this.packets = 0;
      this.baseSeq = seq;
      this.maxSeq = seq;
      this.cycles = 0;
    }
    this.packets++;
    const ahead = (seq - this.maxSeq) & 0xffff;
    if (ahead !== 0 && ahead < 0x8000) {
      if (seq < this.maxSeq) this.cycles += 0x10000;
      this.maxSeq = seq;
    }
  }

  /** Packets went by unseen (relayed by another path): the next one begins the stream anew. */
  restart(): void {
    this.packets = 0;
  }

  /** A plain RTCP packet from the sender: a sender report first in it is remembered. */
  control(p: Uint8Array, length: number, now: number): void {
    if (length < 28 || p[1] !== 200) return;
    this.lastSr = ((p[10]! << 24) | (p[11]! << 16) | (p[12]! << 8) | p[13]!) >>> 0;
    this.lastSrAt = now;
    this.lastSrSsrc = ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0;
  }

  /** RFC 3550's extended highest sequence number received. */
  get highestSeq(): number {
    return this.cycles + this.maxSeq;
  }

  get lost(): number {
    return Math.min(MAX_LOST, Math.max(0, this.highestSeq - this.baseSeq + 1 - this.packets));
  }
}
