import { isDtlsAttribute } from './webrtc.js';
import { attributeName, isIceAttribute, STATIC_PAYLOADS, type MediaDescription, type SessionDescription } from './SessionDescription.js';

/** What the relay puts into one m= section of the SDP it passes on. */
export interface MediaRewrite {
  address: string;
  family: 4 | 6;
  rtpPort: number;
  /** null: the RTCP port line is left out (rtcp-mux answer keeps a=rtcp:RTP). */
  rtcpPort: number | null;
  rtcpMux: boolean;
  /** A different transport on the m= line (`transport protocol`), else the sender's stays. */
  protocol?: string;
  /** The relay's own `a=crypto` lines (the sender's are dropped); undefined leaves the sender's. */
  crypto?: string[];
  /** The relay's a=setup/a=fingerprint (the sender's are dropped); undefined leaves the sender's. */
  dtls?: string[];
  /** ICE attributes of the relay (ufrag, pwd, candidates). */
  ice?: string[];
  /** a=mid to write when the section has none (an answer to an offer that had one). */
  mid?: string;
}

export interface RewriteOptions {
  address: string;
  family: 4 | 6;
  replaceOrigin: boolean;
  removeIce: boolean;
  rtcpAttribute: 'short' | 'full' | 'none';
  /** Flag `original sendrecv`: no a=sendrecv is added where the input had no direction. */
  originalSendrecv?: boolean;
  /** a=ice-lite at session level (the relay is an ICE-lite agent towards this party). */
  iceLite?: boolean;
  /** One entry per m= line; null leaves a section alone (rejected, port 0). */
  medias: (MediaRewrite | null)[];
}

const ipv = (family: 4 | 6): string => (family === 6 ? 'IP6' : 'IP4');

const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
/** Attributes the relay writes itself, in its own order. */
const GENERATED = new Set(['mid', 'rtpmap', 'fmtp', 'rtcp-fb', 'rtcp', 'rtcp-mux', 'ptime', ...DIRECTIONS]);

const payloadOf = (line: string): string => /^a=[\w-]+:(\S+)/.exec(line)?.[1] ?? '';

/**
 * The lines after m= in rtpengine 10.5's order: other lines (c=, b= ...) where they were,
 * a=mid, the remaining attributes as they came, then per payload a=rtpmap (written for
 * static types too), a=fmtp and a=rtcp-fb, then the direction (the session's, or sendrecv,
 * when the section has none), a=rtcp, a=rtcp-mux and a=ptime.
 */
function mediaBody(m: MediaDescription, r: MediaRewrite, opt: RewriteOptions, sessionDirection: string | undefined): string[] {
  const lines: string[] = [];
  const byName = new Map<string, string[]>();
  const kept: string[] = [];
  for (const line of m.lines.slice(1)) {
    if (line.startsWith('c=')) lines.push(`c=IN ${ipv(r.family)} ${r.address}`);
    else if (!line.startsWith('a=')) lines.push(line);
    else if (opt.removeIce && isIceAttribute(line)) continue;
    else if (r.crypto !== undefined && attributeName(line) === 'crypto') continue;
    else if (r.dtls !== undefined && isDtlsAttribute(line)) continue;
    else {
      const name = attributeName(line) ?? '';
      if (GENERATED.has(name)) byName.set(name, [...(byName.get(name) ?? []), line]);
      else kept.push(line);
    }
  }
  const get = (name: string): string[] => byName.get(name) ?? [];
  const mids = get('mid');
  lines.push(...(mids.length === 0 && r.mid !== undefined ? [`a=mid:${r.mid}`] : mids), ...kept);
  for (const pt of m.formats) {
    const known = STATIC_PAYLOADS.get(pt);
    const rtpmap = get('rtpmap').find((l) => payloadOf(l) === pt) ?? (known ? `a=rtpmap:${pt} ${known}` : undefined);
    if (rtpmap) lines.push(rtpmap);
    lines.push(...get('fmtp').filter((l) => payloadOf(l) === pt), ...get('rtcp-fb').filter((l) => payloadOf(l) === pt));
  }
  // Codec lines for payloads the m= line does not list (a=rtcp-fb:* ...) stay too.
  for (const name of ['rtpmap', 'fmtp', 'rtcp-fb']) lines.push(...get(name).filter((l) => !m.formats.includes(payloadOf(l))));
  const direction = m.direction ?? sessionDirection ?? (opt.originalSendrecv ? undefined : 'sendrecv');
  if (direction) lines.push(`a=${direction}`);
  if (r.rtcpPort !== null && opt.rtcpAttribute !== 'none') {
    lines.push(opt.rtcpAttribute === 'full' ? `a=rtcp:${r.rtcpPort} IN ${ipv(r.family)} ${r.address}` : `a=rtcp:${r.rtcpPort}`);
  }
  if (r.rtcpMux) lines.push('a=rtcp-mux');
  if (r.crypto) lines.push(...r.crypto);
  if (r.dtls) lines.push(...r.dtls);
  if (r.ice) lines.push(...r.ice);
  lines.push(...get('ptime'));
  return lines;
}

/** Produces the SDP to send on: addresses, ports, a=rtcp, ICE, o= if asked, attributes in rtpengine's order. */
export function rewriteSdp(sd: SessionDescription, opt: RewriteOptions): string {
  const out: string[] = [];
  // A session-level direction goes into every media section the relay writes.
  const movesDirection = opt.medias.some((r) => r !== null);
  for (const line of sd.sessionLines) {
    if (line.startsWith('c=')) {
      out.push(`c=IN ${ipv(opt.family)} ${opt.address}`);
    } else if (line.startsWith('o=') && opt.replaceOrigin) {
      const f = line.slice(2).split(' ');
      if (f.length >= 6) {
        f[4] = ipv(opt.family);
        f[5] = opt.address;
        out.push(`o=${f.join(' ')}`);
      } else out.push(line);
    } else if (opt.removeIce && isIceAttribute(line)) {
      continue;
    } else if (opt.removeIce && !opt.iceLite && line.startsWith('a=group:')) {
      // Without ICE towards this party there is no BUNDLE either (rtpengine drops the group).
      continue;
    } else if (movesDirection && DIRECTIONS.has(attributeName(line) ?? '')) {
      continue;
    } else out.push(line);
  }
  if (opt.iceLite) out.push('a=ice-lite');
  sd.medias.forEach((m, i) => {
    const r = opt.medias[i];
    if (!r) {
      // Rejected (port 0): no ports of ours, but no peer address may leak either.
      for (const line of m.lines) {
        if (line.startsWith('c=')) out.push(`c=IN ${ipv(opt.family)} ${opt.address}`);
        else if (!(opt.removeIce && isIceAttribute(line))) out.push(line);
      }
      return;
    }
    out.push(m.lines[0]!.replace(/^(m=\S+ )\d+((?:\/\d+)? )(\S+)/, (_l, head: string, count: string, proto: string) => `${head}${r.rtpPort}${count}${r.protocol ?? proto}`));
    out.push(...mediaBody(m, r, opt, sd.direction));
  });
  return out.join('\r\n') + '\r\n';
}
