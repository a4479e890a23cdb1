import { isIP } from 'node:net';

export class SdpParseError extends Error {}
/** Parsable, but a media section has no address to send to (rtpengine: "Incomplete SDP specification"). */
export class SdpIncompleteError extends SdpParseError {}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
const DIRECTIONS = new Set<string>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

export interface Connection {
  family: 4 | 6;
  address: string;
}

export interface MediaDescription {
  type: string;
  port: number;
  portCount: number;
  protocol: string;
  formats: string[];
  /** Every line of the section, the m= line first, without line ends. */
  lines: string[];
  connection?: Connection;
  rtcpPort?: number;
  rtcpMux: boolean;
  direction?: Direction;
  /** payload type -> "ENCODING/CLOCK[/PARAMS]" from a=rtpmap. */
  rtpmap: Map<string, string>;
  hasIce: boolean;
  /** The further session this section belongs to, when the body holds several (v= again after an m=). */
  session?: FurtherSession;
}

/**
 * A session after the first in one body (rtpengine takes a concatenation of SDPs): its lines
 * from v= up to its first m=, and its c=, which its sections without their own use.
 */
export interface FurtherSession {
  lines: string[];
  connection?: Connection;
}

export interface SessionDescription {
  /** Lines before the first m=, without line ends. */
  sessionLines: string[];
  connection?: Connection;
  direction?: Direction;
  medias: MediaDescription[];
}

function parseConnection(value: string): Connection {
  const parts = value.trim().split(/\s+/);
  if (parts.length < 3 || parts[0] !== 'IN' || (parts[1] !== 'IP4' && parts[1] !== 'IP6')) {
    throw new SdpParseError(`bad c= line '${value}'`);
  }
  const address = parts[2]!.split('/')[0]!;
  const family = parts[1] === 'IP6' ? 6 : 4;
  if (isIP(address) !== family) throw new SdpParseError(`bad address in c= line '${value}'`);
  return { family, address };
}

const ICE_ATTRS = new Set(['ice-ufrag', 'ice-pwd', 'ice-options', 'ice-lite', 'ice-mismatch', 'candidate', 'remote-candidates', 'end-of-candidates', 'ice-pacing']);

const WHITESPACE = /\s/;

/** `a=NAME[:VALUE]`: the name, up to the first colon or blank; asked for every line of every rewrite, so no regex. */
export function attributeName(line: string): string | null {
  if (!line.startsWith('a=')) return null;
  let end = 2;
  for (; end < line.length; end++) {
    const c = line.charCodeAt(end);
    if (c === 0x3a || c === 0x20 || (c >= 0x09 && c <= 0x0d)) break;
    if (c > 0x7f && WHITESPACE.test(line[end]!)) break;
  }
  return end > 2 ? line.slice(2, end) : null;
}

export function isIceAttribute(line: string): boolean {
  const n = attributeName(line);
  return n !== null && ICE_ATTRS.has(n);
}

const isRtp = (protocol: string): boolean => protocol.includes('RTP/');
const PAYLOAD_TYPE = /^\d{1,3}$/;

/** `m=TYPE PORT[/COUNT] PROTO FMT ...`, split on single blanks as rtpengine does. */
function parseMediaLine(line: string, value: string): MediaDescription {
  const words = value.split(' ');
  if (words.length < 3) throw new SdpParseError(`bad m= line '${line.slice(0, 80)}'`);
  const [type, portField, protocol] = words as [string, string, string];
  const slash = portField.indexOf('/');
  const portText = slash < 0 ? portField : portField.slice(0, slash);
  const countText = slash < 0 ? '1' : portField.slice(slash + 1);
  if (type === '' || protocol === '' || !/^\d{1,5}$/.test(portText) || !/^\d{1,5}$/.test(countText)) {
    throw new SdpParseError(`bad m= line '${line.slice(0, 80)}'`);
  }
  const port = Number(portText);
  if (port > 65535) throw new SdpParseError(`bad port in '${line.slice(0, 80)}'`);
  const formats = words.slice(3);
  // RTP formats are payload types; anything else (a blank run, a name) is what rtpengine calls incomplete.
  if (isRtp(protocol)) {
    for (const f of formats) if (!PAYLOAD_TYPE.test(f) || Number(f) > 127) throw new SdpIncompleteError(`bad payload type in '${line.slice(0, 80)}'`);
  } else if (formats.includes('')) throw new SdpParseError(`bad m= line '${line.slice(0, 80)}'`);
  return {
    type,
    port,
    portCount: Number(countText),
    protocol,
    formats,
    lines: [line],
    rtcpMux: false,
    rtpmap: new Map(),
    hasIce: false,
  };
}

/** Parses an SDP body, keeping every line so that a rewrite changes only what it must. */
export function parseSdp(text: string): SessionDescription {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0 || !/^v=0\s*$/.test(lines[0]!)) throw new SdpParseError('SDP does not start with v=0');
  const sd: SessionDescription = { sessionLines: [], medias: [] };
  let media: MediaDescription | null = null;
  let further: FurtherSession | undefined;
  for (const raw of lines) {
    // trimEnd, not /\s+$/: that regex is quadratic on a long run of blanks inside a line.
    const line = raw.trimEnd();
    const c0 = line.charCodeAt(0);
    if (!(c0 >= 0x61 && c0 <= 0x7a) || line.charCodeAt(1) !== 0x3d) throw new SdpParseError(`malformed line '${line.slice(0, 40)}'`);
    const value = line.slice(2);
    if (c0 === 0x6d /* m */) {
      media = parseMediaLine(line, value);
      // Passed on as it came (a rejected `m=application 0 * ` keeps its blank).
      media.lines[0] = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      media.session = further;
      sd.medias.push(media);
      continue;
    }
    if (c0 === 0x76 /* v */ && media !== null) {
      further = { lines: [line] };
      media = null;
      continue;
    }
    if (further !== undefined && media === null) {
      further.lines.push(line);
      if (line.startsWith('c=')) further.connection = parseConnection(value);
      continue;
    }
    if (media === null) {
      sd.sessionLines.push(line);
      if (line.startsWith('c=')) sd.connection = parseConnection(value);
      else if (line.startsWith('a=') && DIRECTIONS.has(value)) sd.direction = value as Direction;
      continue;
    }
    media.lines.push(line);
    if (line.startsWith('c=')) {
      media.connection = parseConnection(value);
    } else if (line.startsWith('a=')) {
      const name = attributeName(line);
      if (name !== null && DIRECTIONS.has(name)) media.direction = name as Direction;
      else if (name === 'rtcp-mux') media.rtcpMux = true;
      else if (name === 'rtcp') {
        const rm = /^a=rtcp:(\d+)/.exec(line);
        if (!rm || Number(rm[1]) > 65535) throw new SdpParseError(`bad a=rtcp line '${line}'`);
        media.rtcpPort = Number(rm[1]);
      } else if (name === 'rtpmap') {
        const rm = /^a=rtpmap:(\d+) (\S+)/.exec(line);
        if (rm) media.rtpmap.set(rm[1]!, rm[2]!);
      } else if (name !== null && ICE_ATTRS.has(name)) media.hasIce = true;
    }
  }
  for (const m of sd.medias) {
    if (m.port !== 0 && !mediaConnection(sd, m)) {
      throw new SdpIncompleteError(`no c= line for m=${m.type}`);
    }
    // RTCP on the RTP port asks for rtcp-mux as rtpengine reads it (not trickle ICE's placeholder: port 9 on the any address).
    if (m.rtcpPort === m.port && m.port !== 0 && !isTrickleHolder(m.port, mediaConnection(sd, m)?.address)) m.rtcpMux = true;
  }
  return sd;
}

function isTrickleHolder(port: number, address: string | undefined): boolean {
  return port === 9 && (address === '0.0.0.0' || address === '::');
}

/** Where a media section's sender wants RTP: its c= (media, then session) and port. */
export function mediaConnection(sd: SessionDescription, m: MediaDescription): Connection | undefined {
  return m.connection ?? (m.session ? m.session.connection : sd.connection);
}

/** RFC 3551 names of the static payload types rtpengine writes a=rtpmap lines for. */
export const STATIC_PAYLOADS: ReadonlyMap<string, string> = new Map([
  ['0', 'PCMU/8000'], ['3', 'GSM/8000'], ['4', 'G723/8000'], ['8', 'PCMA/8000'], ['9', 'G722/8000'],
  ['13', 'CN/8000'], ['18', 'G729/8000'],
]);

/** "PCMU/8000" style names of a media section's payloads, in m= order. */
export function codecNames(m: MediaDescription): string[] {
  return m.formats.map((pt) => m.rtpmap.get(pt) ?? STATIC_PAYLOADS.get(pt) ?? `${pt}`);
}
