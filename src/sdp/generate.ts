import { randomInt } from 'node:crypto';
import { packageVersion } from '../version.js';
import { codecLines, type Codec } from './codecs.js';
import type { Direction, SessionDescription } from './SessionDescription.js';

/** One m= section the relay writes itself (no SDP of the party to rewrite). */
export interface GeneratedMedia {
  type: string;
  protocol: string;
  /** 0: rejected (no codecs, no attributes). */
  port: number;
  rtcpPort: number;
  codecs: readonly Codec[];
  direction: Direction;
  ptime?: number;
}

export interface GeneratedSession {
  /** The o= value; a new one when the SDP mirrors no party. */
  origin: string;
  sessionName: string;
  address: string;
  family: 4 | 6;
  /** c= once for the session (an SDP mirroring one party), else in each section, as rtpengine writes them. */
  sessionConnection: boolean;
  medias: readonly GeneratedMedia[];
}

/** What an SDP mirroring a party's keeps of it: its o= and s= values, and whether its c= is at session level. */
export interface MirroredOrigin {
  origin: string;
  sessionName: string;
  sessionConnection: boolean;
}

/** A party's SDP as a mirror of it keeps it; null without an o= line. */
export function mirroredOrigin(sd: SessionDescription): MirroredOrigin | null {
  const o = sd.sessionLines.find((l) => l.startsWith('o='));
  if (!o) return null;
  return { origin: o.slice(2), sessionName: sd.sessionLines.find((l) => l.startsWith('s='))?.slice(2) ?? '-', sessionConnection: sd.connection !== undefined };
}

/** The o= value of an SDP the relay writes itself: a new session id (and version) each time. */
export function relayOrigin(family: 4 | 6, address: string): string {
  const id = String(BigInt(Date.now()) * 1000n + BigInt(randomInt(1000)));
  return `- ${id} ${id} IN IP${family} ${address}`;
}

/** The s= value of an SDP the relay writes itself (rtpengine writes its own name and version). */
export const relaySessionName = (): string => `ngrelay-${packageVersion().replace(/\./g, '-')}`;

/**
 * An SDP written from scratch in rtpengine 10.5's line order: m=, c=, a=rtpmap / a=fmtp per
 * codec, direction, a=rtcp, a=ptime.
 */
export function generateSdp(s: GeneratedSession): string {
  const c = `c=IN IP${s.family} ${s.address}`;
  const out = ['v=0', `o=${s.origin}`, `s=${s.sessionName}`];
  if (s.sessionConnection) out.push(c);
  out.push('t=0 0');
  for (const m of s.medias) {
    if (m.port === 0) {
      out.push(`m=${m.type} 0 ${m.protocol} ${m.codecs[0]?.pt ?? '0'}`);
      continue;
    }
    out.push(`m=${m.type} ${m.port} ${m.protocol} ${m.codecs.map((x) => x.pt).join(' ')}`);
    if (!s.sessionConnection) out.push(c);
    for (const codec of m.codecs) if (codec.encoding !== '') out.push(...codecLines(codec));
    out.push(`a=${m.direction}`, `a=rtcp:${m.rtcpPort}`);
    if (m.ptime !== undefined) out.push(`a=ptime:${m.ptime}`);
  }
  return out.join('\r\n') + '\r\n';
}
