import { attributeName, type MediaDescription, type SessionDescription } from './SessionDescription.js';
import { mid } from './webrtc.js';

/** RFC 8843/9143 BUNDLE as an SDP says it: groups of m= lines that share one transport. */

/** The RTP header extension that names a packet's m= line (RFC 8843 15.2). */
export const MID_EXTENSION_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';

// Bounded: a token of RFC 5888 (mids are short; browsers write 0, 1 ... or audio, video).
export const MID_TOKEN = /^[A-Za-z0-9!#$%&'*+\-.^_`{|}~]{1,32}$/;

/** The session's `a=group:BUNDLE` groups: their mids in order (the first names the transport's m= line). */
export function bundleGroups(sd: SessionDescription): string[][] {
  const groups: string[][] = [];
  for (const l of sd.sessionLines) {
    if (!l.startsWith('a=group:BUNDLE')) continue;
    const mids = l.slice('a=group:BUNDLE'.length).trim().split(/\s+/).filter((m) => MID_TOKEN.test(m));
    if (mids.length > 0) groups.push(mids.slice(0, 32));
  }
  return groups;
}

/** `a=bundle-only`: a zero port that is not a rejection (RFC 8843 6). */
export function isBundleOnly(m: MediaDescription): boolean {
  return m.lines.some((l) => attributeName(l) === 'bundle-only');
}

/** The id of the `a=extmap` carrying the MID extension in a section (0: none). */
export function midExtensionId(m: MediaDescription): number {
  for (const l of m.lines) {
    if (attributeName(l) !== 'extmap') continue;
    const e = /^a=extmap:(\d{1,3})(?:\/\S+)? (\S+)/.exec(l);
    if (e && e[2] === MID_EXTENSION_URI && Number(e[1]) >= 1 && Number(e[1]) <= 255) return Number(e[1]);
  }
  return 0;
}

/**
 * The sections of one party's SDP that are bundled: per group (first BUNDLE group that has
 * them), the m= line indices in the group's order. A section joins only when it carries the
 * group's mid and is RTP; a group of the sections found is kept even with one member (a
 * `max-bundle` browser bundles a lone audio section too).
 */
export function bundledSections(sd: SessionDescription): number[][] {
  const out: number[][] = [];
  const taken = new Set<number>();
  for (const mids of bundleGroups(sd)) {
    const members: number[] = [];
    for (const id of mids) {
      const i = sd.medias.findIndex((m, j) => !taken.has(j) && mid(m) === id && m.protocol.includes('RTP/'));
      if (i < 0) continue;
      const md = sd.medias[i]!;
      if (md.port === 0 && !isBundleOnly(md)) continue;
      taken.add(i);
      members.push(i);
    }
    // The transport is the first member's: it must have a port of its own.
    if (members.length > 0 && sd.medias[members[0]!]!.port !== 0) out.push(members);
  }
  return out;
}
