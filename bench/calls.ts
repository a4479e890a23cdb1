/** Calls set up over NG as Kamailio does (offer, answer), shared by the media benchmarks. */
import type { NgControl } from './NgControl.js';

export interface Endpoint {
  address: string;
  port: number;
}

export function audioSdp(at: Endpoint, origin: string): string {
  return ['v=0', `o=${origin} 1 1 IN IP4 ${at.address}`, 's=bench', `c=IN IP4 ${at.address}`, 't=0 0',
    `m=audio ${at.port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');
}

/** The relay's media address and port for the first audio m-line of its SDP. */
export function mediaEndpoint(sdp: unknown): Endpoint {
  const text = typeof sdp === 'string' ? sdp : '';
  const m = /^m=audio (\d+) /m.exec(text);
  if (!m) throw new Error(`relay answered without an audio m-line: ${String(sdp)}`);
  // The media-level c= line wins over the session-level one.
  const c = /^c=IN IP4 (\S+)/m.exec(text.slice(m.index)) ?? /^c=IN IP4 (\S+)/m.exec(text);
  if (!c) throw new Error(`relay SDP has no IPv4 c= line: ${text}`);
  return { address: c[1]!, port: Number(m[1]) };
}

export interface CallPorts {
  /** Relay address and port the caller sends to, and the ones the callee sends to. */
  callerTo: Endpoint;
  calleeTo: Endpoint;
}

export const callTags = (id: string): { from: string; to: string } => ({ from: `${id}-a`, to: `${id}-b` });

/**
 * Offer (caller's SDP) and answer (callee's SDP) for one call. `direction` names the relay's
 * logical interfaces towards the caller and the callee, when it has several: NG `direction`
 * lists the interface of the message's sender first, so the answer carries it reversed (as
 * Kamailio sends it).
 */
export async function setUpCall(ng: NgControl, id: string, caller: Endpoint, callee: Endpoint, direction?: [string, string]): Promise<CallPorts> {
  const tags = callTags(id);
  const common = { 'call-id': id, 'from-tag': tags.from, replace: ['origin', 'session-connection'], ICE: 'remove' };
  const offer = await ng.request({ ...common, command: 'offer', ...(direction ? { direction } : {}), sdp: audioSdp(caller, 'caller') });
  if (offer['result'] !== 'ok') throw new Error(`offer failed: ${JSON.stringify(offer)}`);
  const answer = await ng.request({
    ...common, command: 'answer', 'to-tag': tags.to, ...(direction ? { direction: [direction[1], direction[0]] } : {}), sdp: audioSdp(callee, 'callee'),
  });
  if (answer['result'] !== 'ok') throw new Error(`answer failed: ${JSON.stringify(answer)}`);
  // The answer goes to the caller: its port is where the caller sends; the offer's, the callee's.
  return { callerTo: mediaEndpoint(answer['sdp']), calleeTo: mediaEndpoint(offer['sdp']) };
}

export async function deleteCall(ng: NgControl, id: string): Promise<void> {
  await ng.request({ command: 'delete', 'call-id': id, 'from-tag': callTags(id).from }).catch(() => undefined);
}

export async function inBatches<T>(n: number, width: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await f(i);
    }
  }));
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const sleepUntil = (epochMs: number): Promise<void> => sleep(Math.max(0, epochMs - Date.now()));
