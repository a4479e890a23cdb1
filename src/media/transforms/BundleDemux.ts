/**
 * BUNDLE demultiplexing (RFC 8843 9.2, RFC 9143): several m= lines arrive on one port, and
 * each packet is given to its m= line's route by the MID header extension, else by an SSRC
 * seen before with a MID or a payload type, else by its payload type. RTCP goes by its
 * sender's SSRC, else to the first route (the m= line that owns the transport).
 * Built at signalling time; `route` allocates nothing.
 */

/** One bundled m= line as the demultiplexer needs it. */
export interface DemuxRoute<T> {
  /** Its a=mid ('' when it has none). */
  mid: string;
  /** The payload types its sender uses. */
  payloadTypes: readonly number[];
  target: T;
}

/** SSRCs remembered per transport; a new one replaces the oldest. */
const SSRC_SLOTS = 32;

export class BundleDemux<T> {
  private readonly mids: Buffer[];
  /** Payload type -> route index + 1 (0: unknown). */
  private readonly byPayload = new Uint8Array(128);
  private readonly ssrcs = new Uint32Array(SSRC_SLOTS);
  private readonly ssrcRoute = new Int8Array(SSRC_SLOTS).fill(-1);
  private nextSlot = 0;

  constructor(
    /** The a=extmap id of the MID extension (0: not negotiated). */
    private readonly midExtension: number,
    readonly routes: readonly DemuxRoute<T>[],
  ) {
    this.mids = routes.map((r) => Buffer.from(r.mid));
    routes.forEach((r, i) => {
      // RFC 8843 9.1: a payload type names one m= line of the bundle; the first keeps it.
      for (const pt of r.payloadTypes) if (pt >= 0 && pt < 128 && this.byPayload[pt] === 0) this.byPayload[pt] = i + 1;
    });
  }

  /** The route index of a packet (-1: none of the bundle's). */
  route(msg: Buffer, rtcp: boolean): number {
    if (msg.length < 8) return -1;
    if (rtcp) {
      const known = this.ssrcIndex(msg.readUInt32BE(4));
      return known >= 0 ? known : 0;
    }
    if (msg.length < 12) return -1;
    const ssrc = msg.readUInt32BE(8);
    const byMid = this.midExtension !== 0 && (msg[0]! & 0x10) !== 0 ? this.midRoute(msg) : -1;
    if (byMid >= 0) {
      this.remember(ssrc, byMid);
      return byMid;
    }
    const known = this.ssrcIndex(ssrc);
    if (known >= 0) return known;
    const byPt = this.byPayload[msg[1]! & 0x7f]! - 1;
    if (byPt >= 0) this.remember(ssrc, byPt);
    return byPt;
  }

  private ssrcIndex(ssrc: number): number {
    const s = this.ssrcs;
    for (let i = 0; i < SSRC_SLOTS; i++) if (s[i] === ssrc && this.ssrcRoute[i]! >= 0) return this.ssrcRoute[i]!;
    return -1;
  }

  private remember(ssrc: number, route: number): void {
    const s = this.ssrcs;
    for (let i = 0; i < SSRC_SLOTS; i++) {
      if (s[i] === ssrc && this.ssrcRoute[i]! >= 0) {
        this.ssrcRoute[i] = route;
        return;
      }
    }
    s[this.nextSlot] = ssrc;
    this.ssrcRoute[this.nextSlot] = route;
    this.nextSlot = (this.nextSlot + 1) % SSRC_SLOTS;
  }

  /** The route whose mid the packet's MID extension (RFC 8285 one- or two-byte form) names, else -1. */
  private midRoute(msg: Buffer): number {
    const start = 12 + 4 * (msg[0]! & 0x0f);
    if (msg.length < start + 4) return -1;
    const profile = msg.readUInt16BE(start);
    const end = start + 4 + 4 * msg.readUInt16BE(start + 2);
    if (end > msg.length) return -1;
    const oneByte = profile === 0xbede;
    if (!oneByte && (profile & 0xfff0) !== 0x1000) return -1;
    let p = start + 4;
    while (p < end) {
      let id: number;
      let len: number;
      if (oneByte) {
        const b = msg[p]!;
        if (b === 0) {
          p++;
          continue;
        }
        id = b >> 4;
        if (id === 15) return -1;
        len = (b & 0x0f) + 1;
        p++;
      } else {
        id = msg[p]!;
        if (id === 0) {
          p++;
          continue;
        }
        if (p + 1 >= end) return -1;
        len = msg[p + 1]!;
        p += 2;
      }
      if (p + len > end) return -1;
      if (id === this.midExtension) return this.midIndex(msg, p, len);
      p += len;
    }
    return -1;
  }

  private midIndex(msg: Buffer, at: number, len: number): number {
    const mids = this.mids;
    for (let i = 0; i < mids.length; i++) {
      const m = mids[i]!;
      if (m.length === len && m.compare(msg, at, at + len) === 0) return i;
    }
    return -1;
  }
}
