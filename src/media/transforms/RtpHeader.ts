/**
 * Length of an RTP packet's header (fixed part, CSRCs and header extension), or -1 when the
 * packet is too short for what its first bytes announce.
 */
export function rtpHeaderLength(p: Uint8Array, length = p.length): number {
  if (length < 12) return -1;
  let off = 12 + 4 * (p[0]! & 0x0f);
  if ((p[0]! & 0x10) !== 0) {
    if (off + 4 > length) return -1;
    off += 4 + 4 * ((p[off + 2]! << 8) | p[off + 3]!);
  }
  return off > length ? -1 : off;
}

/** RFC 5761: a second byte of 192-223 makes a packet RTCP. */
export function isRtcp(p: Buffer): boolean {
  return p.length > 1 && p[1]! >= 192 && p[1]! <= 223;
}
