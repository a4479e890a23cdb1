import type { Dict } from './NgClient.js';
import type { Relay } from './Relay.js';

/**
 * Replaces what legitimately differs between two relays' SDP (ports, generated keys, ICE
 * credentials, fingerprints) with placeholders of the suite's kind, keeping lengths.
 */
export function normaliseSdp(sdp: string, ownKeys: ReadonlySet<string> = new Set()): string {
  return sdp
    .replace(/^(m=\S+ )\d+/gm, '$1PORT')
    .replace(/^a=rtcp:\d+/gm, 'a=rtcp:PORT')
    .replace(/inline:([A-Za-z0-9+/]+)/g, (_m, k: string) => (ownKeys.has(k) ? `inline:${k}` : `inline:KEY${k.length}`))
    .replace(/^(a=candidate:)\S+ (\d) (\S+) (\d+) (\S+) \d+/gm, '$1ICEBASE $2 $3 $4 $5 PORT')
    .replace(/^a=ice-ufrag:\S+/gm, 'a=ice-ufrag:ICEUFRAG')
    .replace(/^a=ice-pwd:\S+/gm, 'a=ice-pwd:ICEPWD')
    .replace(/^a=fingerprint:(\S+) [0-9A-F:]+/gm, 'a=fingerprint:$1 FINGERPRINT')
    .replace(/^a=tls-id:\S+/gm, 'a=tls-id:TLSID');
}

export interface Step {
  command: 'offer' | 'answer';
  sdp: string;
  flags?: Dict;
}

/** Runs the same offer/answer steps on a relay; returns each step's SDP (or error text). */
export async function runSteps(relay: Relay, callId: string, steps: Step[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of steps) {
    const r = await relay.ng.request({ command: s.command, 'call-id': callId, 'from-tag': 'ft', ...(s.command === 'answer' ? { 'to-tag': 'tt' } : {}), sdp: s.sdp, ...s.flags });
    out.push(r['result'] === 'ok' ? String(r['sdp']) : `error: ${String(r['error-reason'])}`);
  }
  return out;
}

/** The offerer's and answerer's keys that a relay copies: kept verbatim by normaliseSdp. */
export function inputKeys(steps: Step[]): Set<string> {
  const keys = new Set<string>();
  for (const s of steps) for (const m of s.sdp.matchAll(/inline:([A-Za-z0-9+/]+)/g)) keys.add(m[1]!.replace(/=+$/, ''));
  return keys;
}
