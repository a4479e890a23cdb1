import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Endpoint } from './MediaPlane.js';

/**
 * DTMF reports (`dtmf-log-dest`): one JSON datagram per digit a party sends, in rtpengine
 * 10.5's format, which Kamailio's rtpengine module reads on its `dtmf_event_sock`. Every media
 * thread sends its own legs' reports from a socket of its own, so a digit never waits for the
 * control thread.
 */

/** Who a leg's digits are reported for (plain data: it crosses to media workers). */
export interface DtmfReporting {
  callId: string;
  /** The tag of the party that sends on the leg. */
  sourceTag: string;
  /** Every party's tag in the call. */
  tags: string[];
  /** The party's telephone-event formats (payload type, clock rate). */
  events: { pt: number; clock: number }[];
}

/** A digit as reported: RFC 4733 event code, duration in ms, volume in -dBm0. */
export interface DtmfDigit {
  event: number;
  durationMs: number;
  volume: number;
}

/**
 * The report's text, keys in rtpengine's order. Strings are JSON-escaped (rtpengine writes
 * them raw; the same bytes for every call-id and tag without quotes, backslashes or control
 * characters).
 */
export function dtmfReportText(r: DtmfReporting, sourceIp: string, d: DtmfDigit, unixSeconds: number): string {
  const tags = r.tags.map((t) => JSON.stringify(t)).join(',');
  return `{"callid":${JSON.stringify(r.callId)},"source_tag":${JSON.stringify(r.sourceTag)},"tags":[${tags}],"type":"DTMF","timestamp":${unixSeconds},"source_ip":${JSON.stringify(sourceIp)},"event":${d.event},"duration":${d.durationMs},"volume":${d.volume}}`;
}

/** rtpengine's duration in ms of `ticks` at `clock` Hz (its integer arithmetic, 8 kHz when unknown). */
export function durationMs(ticks: number, clock: number): number {
  const c = clock > 0 ? clock : 8000;
  return Math.floor((ticks * Math.floor(1_000_000 / c)) / 1000);
}

let destination: Endpoint | null = null;
let socket: dgram.Socket | null = null;

/** Where this thread sends reports (null: reporting is off). */
export function setDtmfLogDestination(dest: Endpoint | null): void {
  destination = dest;
  socket?.close();
  socket = null;
}

export function dtmfLogDestination(): Endpoint | null {
  return destination;
}

/** Sends one digit's report from this thread (nothing when reporting is off). */
export function sendDtmfReport(r: DtmfReporting, sourceIp: string, d: DtmfDigit): void {
  const dest = destination;
  if (dest === null) return;
  if (socket === null) {
    socket = dgram.createSocket(isIPv6(dest.address) ? 'udp6' : 'udp4');
    // A refused or unreachable destination loses that report only, as with rtpengine.
    socket.on('error', () => undefined);
    socket.unref();
  }
  socket.send(dtmfReportText(r, sourceIp, d, Math.floor(Date.now() / 1000)), dest.port, dest.address);
}
