import type { ReceivedStream } from './ReceivedStream.js';

/** Seconds from the NTP epoch (1900) to the Unix epoch. */
const NTP_OFFSET = 2208988800;
const SR = 200;
const SDES = 202;
const CNAME = 1;

/** A stream the relay sends of its own, as its sender report counts it. */
export interface SentStream {
  readonly ssrc: number;
  readonly sentPackets: number;
  /** Octets sent, RTP headers included (what rtpengine counts). */
  readonly sentOctets: number;
  /** The RTP timestamp of the last packet sent. */
  readonly lastTs: number;
}

/** The longest report written: a sender report with one block, and an SDES CNAME of up to 255 bytes. */
export const MAX_REPORT = 28 + 24 + 8 + 2 + 255 + 4;

function put32(p: Uint8Array, at: number, v: number): void {
  p[at] = v >>> 24;
  p[at + 1] = (v >>> 16) & 0xff;
  p[at + 2] = (v >>> 8) & 0xff;
  p[at + 3] = v & 0xff;
}

/**
 * Writes the compound RTCP packet rtpengine 10.5 sends for a stream of its own (a playback):
 * a sender report (NTP time of `now`, the stream's counts and last timestamp) with one report
 * block about `received` when the party sent RTP (loss as a share of all, jitter not measured:
 * 0, the party's last sender report from `reports` with the delay since it), then an SDES chunk
 * with `cname`. Returns its length; `out` holds at least MAX_REPORT bytes.
 */
export function writeSenderReport(out: Uint8Array, now: number, sent: SentStream, received: ReceivedStream | null, reports: ReceivedStream | null, cname: Uint8Array): number {
  const block = received !== null && received.packets > 0;
  out[0] = 0x80 | (block ? 1 : 0);
  out[1] = SR;
  out[2] = 0;
  out[3] = block ? 12 : 6;
  put32(out, 4, sent.ssrc);
  const ms = now % 1000;
  put32(out, 8, Math.floor(now / 1000) + NTP_OFFSET);
  put32(out, 12, Math.floor((4294967295 * ms) / 1000));
  put32(out, 16, sent.lastTs);
  put32(out, 20, sent.sentPackets);
  put32(out, 24, sent.sentOctets);
  let at = 28;
  if (block) {
    const lost = received.lost;
    put32(out, at, received.ssrc);
    out[at + 4] = Math.floor((lost * 256) / (lost + received.packets));
    out[at + 5] = lost >>> 16;
    out[at + 6] = (lost >>> 8) & 0xff;
    out[at + 7] = lost & 0xff;
    put32(out, at + 8, received.highestSeq);
    put32(out, at + 12, 0);
    const sr = reports !== null && reports.lastSrAt !== 0 && reports.lastSrSsrc === received.ssrc;
    put32(out, at + 16, sr ? reports.lastSr : 0);
    // Delay since that report in 1/65536 s.
    put32(out, at + 20, sr ? Math.floor(((now - reports.lastSrAt) * 65536) / 1000) : 0);
    at += 24;
  }
  // SDES: one chunk, the CNAME item, then a null item end padded to 32 bits.
  const n = Math.min(255, cname.length);
  const chunk = 4 + 2 + n;
  const padded = (chunk + 4) & ~3;
  out[at] = 0x81;
  out[at + 1] = SDES;
  out[at + 2] = 0;
  out[at + 3] = padded / 4;
  put32(out, at + 4, sent.ssrc);
  out[at + 8] = CNAME;
  out[at + 9] = n;
  for (let i = 0; i < n; i++) out[at + 10 + i] = cname[i]!;
  out.fill(0, at + 4 + chunk, at + 4 + padded);
  return at + 4 + padded;
}
