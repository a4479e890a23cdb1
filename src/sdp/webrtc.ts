import { isIP } from 'node:net';
import { attributeName, type MediaDescription, type SessionDescription } from './SessionDescription.js';

/** RFC 4145/5763 `a=setup` roles. */
export type SetupRole = 'actpass' | 'active' | 'passive' | 'holdconn';
const ROLES = new Set<string>(['actpass', 'active', 'passive', 'holdconn']);

export interface Fingerprint {
  /** Hash function name as written, e.g. `sha-256`. */
  hash: string;
  /** Upper-case `AB:CD:...`. */
  value: string;
}

export interface DtlsParams {
  setup: SetupRole | null;
  fingerprint: Fingerprint | null;
}

export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

/** Attributes of the DTLS layer the relay writes itself when it terminates DTLS. */
export const DTLS_ATTRIBUTES = new Set(['setup', 'fingerprint', 'tls-id']);

/** The value of the first `a=NAME:` line of a media section, else of the session. */
function value(sd: SessionDescription, m: MediaDescription, name: string): string | undefined {
  const prefix = `a=${name}:`;
  for (const lines of [m.lines, sd.sessionLines]) {
    for (const l of lines) if (l.startsWith(prefix)) return l.slice(prefix.length).trim();
  }
  return undefined;
}

// Bounded: a hash name and up to 64 hex pairs.
const FINGERPRINT = /^([A-Za-z0-9-]{1,16}) ((?:[0-9A-Fa-f]{2}:){0,63}[0-9A-Fa-f]{2})$/;

export function parseDtls(sd: SessionDescription, m: MediaDescription): DtlsParams {
  const s = value(sd, m, 'setup');
  const f = value(sd, m, 'fingerprint');
  const fm = f === undefined ? null : FINGERPRINT.exec(f);
  return {
    setup: s !== undefined && ROLES.has(s) ? (s as SetupRole) : null,
    fingerprint: fm ? { hash: fm[1]!.toLowerCase(), value: fm[2]!.toUpperCase() } : null,
  };
}

const ICE_CHARS = /^[A-Za-z0-9+/]{1,256}$/;

export function parseIce(sd: SessionDescription, m: MediaDescription): IceCredentials | null {
  const ufrag = value(sd, m, 'ice-ufrag');
  const pwd = value(sd, m, 'ice-pwd');
  if (ufrag === undefined || pwd === undefined || !ICE_CHARS.test(ufrag) || !ICE_CHARS.test(pwd)) return null;
  return { ufrag, pwd };
}

export function mid(m: MediaDescription): string | undefined {
  for (const l of m.lines) if (attributeName(l) === 'mid') return l.slice('a=mid:'.length);
  return undefined;
}

export function isDtlsAttribute(line: string): boolean {
  return DTLS_ATTRIBUTES.has(attributeName(line) ?? '');
}

/**
 * rtpengine's ICE priority (RFC 8445 5.1.2.1) from a type and a local preference that counts up
 * from 0, in 32 bits: a local preference past 65535 wraps into the type's bits as rtpengine's does.
 */
export function icePriority(typePref: number, localPref: number, component: 1 | 2): number {
  return ((typePref << 24) | (((65535 - localPref) >>> 0) << 8) | (256 - component)) >>> 0;
}

/** rtpengine's ICE priority of a host candidate: type 126, local preference per address. */
export function hostPriority(addressIndex: number, component: 1 | 2): number {
  return icePriority(126, addressIndex, component);
}

/**
 * rtpengine's type and local preference for the relay's candidates added to a party's own
 * (ICE passthrough): just below the party's host candidates of component 1 that are at or
 * below where the walk stands, so the party's candidates win.
 */
export function passthroughPreference(candidates: readonly SdpCandidate[]): { typePref: number; localPref: number } {
  let typePref = 126;
  let localPref = 0;
  let prio = icePriority(typePref, localPref, 1);
  for (const c of candidates) {
    if (c.priority > prio || c.type !== 'host' || c.component !== 1) continue;
    typePref = c.priority >>> 24;
    localPref = 65535 - ((c.priority & 0xffff00) >>> 8);
    if (localPref > 0) localPref--;
    else {
      if (typePref > 0) typePref--;
      localPref = 65535;
    }
    prio = icePriority(typePref, localPref, 1);
  }
  return { typePref, localPref };
}

/** One `a=candidate` of a party (UDP, IP literal), with its component. */
export interface SdpCandidate {
  foundation: string;
  component: 1 | 2;
  priority: number;
  address: string;
  port: number;
  /** `host`, `srflx`, `prflx`, `relay` ... as written. */
  type: string;
}

/** Candidates read per media: a party cannot make the relay check without bound. */
const MAX_CANDIDATES = 100;
const CANDIDATE = /^a=candidate:(\S{1,32}) ([12]) udp (\d{1,10}) ([0-9A-Fa-f.:]{2,45}) (\d{1,5}) typ (\S+)/i;

/** The party's UDP candidates (hostnames such as mDNS names are left out: nothing to check). */
export function parseCandidates(m: MediaDescription): SdpCandidate[] {
  const out: SdpCandidate[] = [];
  for (const l of m.lines) {
    if (out.length >= MAX_CANDIDATES) break;
    const c = CANDIDATE.exec(l);
    if (!c || !isIP(c[4]!)) continue;
    const port = Number(c[5]);
    const priority = Number(c[3]);
    if (port === 0 || port > 65535 || priority > 0xffffffff) continue;
    out.push({ foundation: c[1]!, component: c[2] === '1' ? 1 : 2, priority, address: c[4]!, port, type: c[6]! });
  }
  return out;
}

/** The party is an ICE-lite agent (`a=ice-lite`, a session attribute). */
export const isIceLite = (sd: SessionDescription): boolean => sd.sessionLines.some((l) => l === 'a=ice-lite');
