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

export function attributeName(line: string): string | null {
  if (!line.startsWith('a=')) return null;
  const m = /^a=([^:\s]+)/.exec(line);
  return m ? m[1]! : null;
}

export function isIceAttribute(line: string): boolean {
  const n = attributeName(line);
  return n !== null && ICE_ATTRS.has(n);
}

/** Parses an SDP body, keeping every line so that a rewrite changes only what it must. */
export function parseSdp(text: string): SessionDescription {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0 || !/^v=0\s*$/.test(lines[0]!)) throw new SdpParseError('SDP does not start with v=0');
  const sd: SessionDescription = { sessionLines: [], medias: [] };
  let media: MediaDescription | null = null;
  for (const raw of lines) {
    const line = raw.replace(/\s+$/, '');
    if (!/^[a-z]=/.test(line)) throw new SdpParseError(`malformed line '${line.slice(0, 40)}'`);
    const value = line.slice(2);
    if (line.startsWith('m=')) {
      const m = /^(\S+) (\d+)(?:\/(\d+))? (\S+)((?: \S+)*)$/.exec(value);
      if (!m) throw new SdpParseError(`bad m= line '${line}'`);
      const port = Number(m[2]);
      if (port > 65535) throw new SdpParseError(`bad port in '${line}'`);
      media = {
        type: m[1]!,
        port,
        portCount: m[3] ? Number(m[3]) : 1,
        protocol: m[4]!,
        formats: m[5]!.trim() === '' ? [] : m[5]!.trim().split(' '),
        lines: [line],
        rtcpMux: false,
        rtpmap: new Map(),
        hasIce: false,
      };
      sd.medias.push(media);
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
    if (m.port !== 0 && !m.connection && !sd.connection) {
      throw new SdpIncompleteError(`no c= line for m=${m.type}`);
    }
  }
  return sd;
}

/** Where a media section's sender wants RTP: its c= (media, then session) and port. */
export function mediaConnection(sd: SessionDescription, m: MediaDescription): Connection | undefined {
  return m.connection ?? sd.connection;
}

/** RFC 3551 names of the static payload types rtpengine writes a=rtpmap lines for. */
export const STATIC_PAYLOADS: Record<string, string> = {
  '0': 'PCMU/8000', '3': 'GSM/8000', '4': 'G723/8000', '8': 'PCMA/8000', '9': 'G722/8000',
  '13': 'CN/8000', '18': 'G729/8000',
};

/** "PCMU/8000" style names of a media section's payloads, in m= order. */
export function codecNames(m: MediaDescription): string[] {
  return m.formats.map((pt) => m.rtpmap.get(pt) ?? STATIC_PAYLOADS[pt] ?? `${pt}`);
}
