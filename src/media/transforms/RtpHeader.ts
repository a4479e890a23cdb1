/**
 * Length of an RTP packet's header (fixed part, CSRCs and header extension), or -1 when the
 * packet is too short for what its first bytes announce.
 */
export function rtpHeaderLength(p: Buffer): number {
  if (p.length < 12) return -1;
  let off = 12 + 4 * (p[0]! & 0x0f);
  if ((p[0]! & 0x10) !== 0) {
    if (off + 4 > p.length) return -1;
    off += 4 + 4 * p.readUInt16BE(off + 2);
  }
  return off > p.length ? -1 : off;
}

/** RFC 5761: a second byte of 192-223 makes a packet RTCP. */
export function isRtcp(p: Buffer): boolean {
  return p.length > 1 && p[1]! >= 192 && p[1]! <= 223;
}
