import { isDtlsAttribute } from './webrtc.js';
import { attributeName, isIceAttribute, STATIC_PAYLOADS, type Connection, type MediaDescription, type SessionDescription } from './SessionDescription.js';

/** What the relay puts into one m= section it relays. */
export interface MediaRewrite {
  kind: 'relay';
  address: string;
  family: 4 | 6;
  rtpPort: number;
  /** null: the RTCP port line is left out (rtcp-mux answer keeps a=rtcp:RTP). */
  rtcpPort: number | null;
  rtcpMux: boolean;
  /** A different transport on the m= line (`transport protocol`), else the sender's stays. */
  protocol?: string;
  /** Payload types passed on, in order; the sender's when absent. */
  formats?: readonly string[];
  /** a=rtpmap/a=fmtp lines of payload types the sender's SDP does not describe (transcoding). */
  codecLines?: ReadonlyMap<string, readonly string[]>;
  /** The sender's c= was the null address (hold): the section becomes send-only. */
  onHold?: boolean;
  /** ... and c= says so (unless `replace: zero-address`). */
  nullAddress: boolean;
  /** `ptime`: the a=ptime written. */
  ptime?: number;
  /** The relay's own `a=crypto` lines (the sender's are dropped); undefined leaves the sender's. */
  crypto?: string[];
  /** The relay's a=setup/a=fingerprint (the sender's are dropped); undefined leaves the sender's. */
  dtls?: string[];
  /** ICE attributes of the relay (ufrag, pwd, candidates). */
  ice?: string[];
  /** ICE passes through: the section's own ICE attributes stay (before the relay's candidates). */
  keepIce?: boolean;
  /** a=mid to write when the section has none (an offer: `generate mid`, a bundle). */
  mid?: string;
  /**
   * The section's own a=mid lines go and `mid` (if any) is written instead: an answer carries
   * the offerer's mid, never the answerer's own (as rtpengine 10.5 writes it).
   */
  replaceMid?: boolean;
}

/** A rejected section (port 0): no ports of ours, no direction, no ICE; the codecs may be narrowed. */
export interface RejectedMedia {
  kind: 'rejected';
  formats?: readonly string[];
}

/** A section passed on as it came (`m=message` ... MSRP): only a c= is written when it had none. */
export interface PassedMedia {
  kind: 'passthrough';
  /** The c= the section inherited from the session, written into it. */
  connection?: string;
}

export type MediaOutput = MediaRewrite | RejectedMedia | PassedMedia;

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
  /** `replace: session-connection`: the session c= is the relay's even where every media has its own. */
  replaceSessionConnection?: boolean;
  /** `replace: zero-address`: a null c= becomes the relay's address. */
  replaceZeroAddress?: boolean;
  /** `loop protect`: the `a=rtpengine:ID` session attribute. */
  instanceId?: string;
  /** o= username, o= version and s= to write instead of the sender's (the `replace` options). */
  username?: string;
  version?: string;
  sessionName?: string;
  /** The relay's BUNDLE groups towards the receiver (mids): the sender's groups never pass on. */
  bundleGroups?: readonly (readonly string[])[];
  /** Flag `strip extmap`: a=extmap lines go, in the session and the relayed sections. */
  stripExtmap?: boolean;
  /** One entry per m= line. */
  medias: MediaOutput[];
}

const ipv = (family: 4 | 6): string => (family === 6 ? 'IP6' : 'IP4');
const nullAddress = (family: 4 | 6): string => (family === 6 ? '::' : '0.0.0.0');
export const isNullAddress = (a: string | undefined): boolean => a === '0.0.0.0' || a === '::';

const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
/** Attributes the relay writes itself, in its own order. */
const GENERATED = new Set(['mid', 'rtpmap', 'fmtp', 'rtcp-fb', 'rtcp', 'rtcp-mux', 'ptime', ...DIRECTIONS]);
/** A send-only sender on hold: what it can still do. */
const HOLD = new Map([['sendrecv', 'sendonly'], ['recvonly', 'inactive'], ['sendonly', 'sendonly'], ['inactive', 'inactive']]);

/** The payload type of an a=rtpmap/fmtp/rtcp-fb line: the word after the colon. */
function payloadOf(line: string): string {
  const colon = line.indexOf(':');
  if (colon < 0) return '';
  let end = colon + 1;
  while (end < line.length && line.charCodeAt(end) > 0x20) end++;
  return line.slice(colon + 1, end);
}
const isRtp = (protocol: string): boolean => protocol.includes('RTP/');

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
  const formats = r.formats ?? m.formats;
  const rtp = isRtp(r.protocol ?? m.protocol);
  for (const line of m.lines.slice(1)) {
    if (line.startsWith('c=')) lines.push(r.nullAddress ? `c=IN ${ipv(r.family)} ${nullAddress(r.family)}` : `c=IN ${ipv(r.family)} ${r.address}`);
    else if (!line.startsWith('a=')) lines.push(line);
    else if (opt.removeIce && !r.keepIce && isIceAttribute(line)) continue;
    else if (opt.stripExtmap && attributeName(line) === 'extmap') continue;
    else if (r.crypto !== undefined && attributeName(line) === 'crypto') continue;
    else if (r.dtls !== undefined && isDtlsAttribute(line)) continue;
    else {
      const name = attributeName(line) ?? '';
      if (GENERATED.has(name)) {
        const same = byName.get(name);
        if (same) same.push(line);
        else byName.set(name, [line]);
      } else kept.push(line);
    }
  }
  const get = (name: string): string[] => byName.get(name) ?? [];
  const mids = get('mid');
  lines.push(...((mids.length === 0 || r.replaceMid) && r.mid !== undefined ? [`a=mid:${r.mid}`] : r.replaceMid ? [] : mids), ...kept);
  if (rtp) {
    for (const pt of formats) {
      const own = r.codecLines?.get(pt);
      if (own) {
        lines.push(...own);
        continue;
      }
      const known = STATIC_PAYLOADS.get(pt);
      const rtpmap = get('rtpmap').find((l) => payloadOf(l) === pt) ?? (known ? `a=rtpmap:${pt} ${known}` : undefined);
      if (rtpmap) lines.push(rtpmap);
      lines.push(...get('fmtp').filter((l) => payloadOf(l) === pt), ...get('rtcp-fb').filter((l) => payloadOf(l) === pt));
    }
    // Feedback for every payload type (a=rtcp-fb:* ...) stays; lines of payload types not passed on go.
    lines.push(...get('rtcp-fb').filter((l) => payloadOf(l) === '*'));
  } else {
    for (const name of ['rtpmap', 'fmtp', 'rtcp-fb']) lines.push(...get(name));
  }
  let direction = m.direction ?? sessionDirection ?? (opt.originalSendrecv && !r.onHold ? undefined : 'sendrecv');
  if (direction && r.onHold) direction = HOLD.get(direction);
  if (direction) lines.push(`a=${direction}`);
  if (rtp && r.rtcpPort !== null && opt.rtcpAttribute !== 'none') {
    lines.push(opt.rtcpAttribute === 'full' ? `a=rtcp:${r.rtcpPort} IN ${ipv(r.family)} ${r.address}` : `a=rtcp:${r.rtcpPort}`);
  }
  if (rtp && r.rtcpMux) lines.push('a=rtcp-mux');
  if (r.crypto) lines.push(...r.crypto);
  if (r.dtls) lines.push(...r.dtls);
  if (r.ice) lines.push(...r.ice);
  if (r.ptime !== undefined) lines.push(`a=ptime:${r.ptime}`);
  else lines.push(...get('ptime'));
  return lines;
}

function mLine(m: MediaDescription, port: number, protocol: string | undefined, formats: readonly string[] | undefined): string {
  const head = m.lines[0]!.replace(/^(m=\S+ )\d+((?:\/\d+)? )(\S+)/, (_l, h: string, count: string, proto: string) => `${h}${port}${count}${protocol ?? proto}`);
  if (!formats) return head;
  const words = head.split(' ');
  return [...words.slice(0, 3), ...formats].join(' ');
}

/**
 * The session lines (v= to the first m=) of one session as passed on: its c= (unless every one
 * of its sections has its own), o= and s= as the `replace` options say, the sender's ICE,
 * BUNDLE groups and direction left out where the relay writes its own.
 */
function sessionHead(lines: readonly string[], connection: Connection | undefined, medias: readonly MediaDescription[], opt: RewriteOptions): string[] {
  const out: string[] = [];
  // A session-level direction goes into every media section the relay writes.
  const movesDirection = opt.medias.some((r) => r.kind === 'relay');
  // A null session c= (hold) stays null, in the family of the SDP passed on.
  const sessionHold = !opt.replaceZeroAddress && isNullAddress(connection?.address);
  // A session c= that every media overrides is left as it came, unless asked (rtpengine 10.5).
  const sessionConnection = opt.replaceSessionConnection || medias.some((m) => !m.connection);
  for (const line of lines) {
    if (line.startsWith('c=') && sessionConnection) {
      out.push(sessionHold ? `c=IN ${ipv(opt.family)} ${nullAddress(opt.family)}` : `c=IN ${ipv(opt.family)} ${opt.address}`);
    } else if (line.startsWith('o=')) {
      const f = line.slice(2).split(' ');
      if (f.length >= 6) {
        if (opt.username !== undefined) f[0] = opt.username;
        if (opt.version !== undefined) f[2] = opt.version;
        if (opt.replaceOrigin) {
          f[4] = ipv(opt.family);
          f[5] = opt.address;
        }
        out.push(`o=${f.join(' ')}`);
      } else out.push(line);
    } else if (line.startsWith('s=') && opt.sessionName !== undefined) {
      out.push(`s=${opt.sessionName}`);
    } else if (opt.removeIce && isIceAttribute(line)) {
      continue;
    } else if (line.startsWith('a=group:BUNDLE') || (opt.stripExtmap && attributeName(line) === 'extmap')) {
      // Whether the receiver bundles is the relay's business: its own groups follow.
      continue;
    } else if (opt.removeIce && !opt.iceLite && line.startsWith('a=group:')) {
      // Without ICE towards this party there is no BUNDLE either (rtpengine drops the group).
      continue;
    } else if (attributeName(line) === 'rtpengine' && opt.instanceId !== undefined) {
      continue;
    } else if (movesDirection && DIRECTIONS.has(attributeName(line) ?? '')) {
      continue;
    } else out.push(line);
  }
  return out;
}

/** Produces the SDP to send on: addresses, ports, a=rtcp, ICE, o= if asked, attributes in rtpengine's order. */
export function rewriteSdp(sd: SessionDescription, opt: RewriteOptions): string {
  const out = sessionHead(sd.sessionLines, sd.connection, sd.medias.filter((m) => !m.session), opt);
  for (const g of opt.bundleGroups ?? []) if (g.length > 0) out.push(`a=group:BUNDLE ${g.join(' ')}`);
  if (opt.iceLite) out.push('a=ice-lite');
  if (opt.instanceId !== undefined) out.push(`a=rtpengine:${opt.instanceId}`);
  sd.medias.forEach((m, i) => {
    const r = opt.medias[i]!;
    // A further session's lines come before its first section, rewritten as the first session's.
    if (m.session && sd.medias[i - 1]?.session !== m.session) out.push(...sessionHead(m.session.lines, m.session.connection, sd.medias.filter((x) => x.session === m.session), opt));
    if (r.kind === 'passthrough') {
      out.push(m.lines[0]!);
      const rest = m.lines.slice(1);
      // rtpengine 10.5 ends the c= it writes here with a bare LF; clients compare bytes.
      if (r.connection) out.push(rest.length > 0 ? `${r.connection}\n${rest.shift()!}` : r.connection);
      out.push(...rest);
      return;
    }
    if (r.kind === 'rejected') {
      // No ports of ours, but no peer address may leak either; no direction for media that is not there.
      out.push(mLine(m, 0, undefined, r.formats));
      for (const line of m.lines.slice(1)) {
        if (line.startsWith('c=')) out.push(`c=IN ${ipv(opt.family)} ${opt.address}`);
        else if (opt.removeIce && isIceAttribute(line)) continue;
        else if (DIRECTIONS.has(attributeName(line) ?? '')) continue;
        else out.push(line);
      }
      return;
    }
    out.push(mLine(m, r.rtpPort, r.protocol, r.formats));
    out.push(...mediaBody(m, r, opt, sd.direction));
  });
  return out.join('\r\n') + '\r\n';
}

/** The session's o= username, version and s= as they came. */
export function originOf(sd: SessionDescription): { username?: string; version?: string; sessionName?: string } {
  const o = sd.sessionLines.find((l) => l.startsWith('o='))?.slice(2).split(' ');
  const s = sd.sessionLines.find((l) => l.startsWith('s='));
  return { username: o?.[0], version: o?.[2], sessionName: s?.slice(2) };
}
