/** Calls set up over NG as Kamailio does (offer, answer), shared by the media benchmarks. */
import dgram from 'node:dgram';
import type { NgControl } from './NgControl.js';

export interface Endpoint {
  address: string;
  port: number;
}

export function audioSdp(at: Endpoint, origin: string, proto = 'RTP/AVP', extra: string[] = []): string {
  return ['v=0', `o=${origin} 1 1 IN IP4 ${at.address}`, 's=bench', `c=IN IP4 ${at.address}`, 't=0 0',
    `m=audio ${at.port} ${proto} 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ...extra, ''].join('\r\n');
}

/** The suite every SDES benchmark call uses (both relays offer it first). */
export const SDES_SUITE = 'AES_CM_128_HMAC_SHA1_80';

/** Master key and salt (30 bytes for SDES_SUITE), as SDES carries them. */
export type SdesKey = Buffer;

/** A seeded master key and salt for call `i` (the same on every relay and run). */
export function sdesKey(i: number): SdesKey {
  const k = Buffer.alloc(30);
  for (let j = 0; j < 30; j++) k[j] = (i * 31 + j * 7 + 1) & 0xff;
  return k;
}

/** The key and salt of the relay's `a=crypto` line for SDES_SUITE, and its tag. */
function offeredSdes(sdp: unknown): { tag: string; key: SdesKey } {
  const m = new RegExp(`^a=crypto:(\\d+) ${SDES_SUITE} inline:([A-Za-z0-9+/=]+)`, 'm').exec(String(sdp));
  if (!m) throw new Error(`relay offered no ${SDES_SUITE}: ${String(sdp)}`);
  return { tag: m[1]!, key: Buffer.from(m[2]!, 'base64') };
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
  /** With SDES towards the callee: the key the relay encrypts the callee's packets with. */
  relayKey?: SdesKey;
}

export const callTags = (id: string): { from: string; to: string } => ({ from: `${id}-a`, to: `${id}-b` });

/**
 * Offer (caller's SDP) and answer (callee's SDP) for one call. `direction` names the relay's
 * logical interfaces towards the caller and the callee, when it has several: NG `direction`
 * lists the interface of the message's sender first, so the answer carries it reversed (as
 * Kamailio sends it).
 */
export async function setUpCall(ng: NgControl, id: string, caller: Endpoint, callee: Endpoint, direction?: [string, string], calleeKey?: SdesKey): Promise<CallPorts> {
  const tags = callTags(id);
  const common = { 'call-id': id, 'from-tag': tags.from, replace: ['origin', 'session-connection'], ICE: 'remove' };
  // A plain caller and an SDES callee: the relay decrypts one direction and encrypts the other.
  const sdes = calleeKey ? { 'transport-protocol': 'RTP/SAVP', DTLS: 'off' } : {};
  const offer = await ng.request({ ...common, command: 'offer', ...sdes, ...(direction ? { direction } : {}), sdp: audioSdp(caller, 'caller') });
  if (offer['result'] !== 'ok') throw new Error(`offer failed: ${JSON.stringify(offer)}`);
  const relay = calleeKey ? offeredSdes(offer['sdp']) : null;
  const calleeSdp = relay ? audioSdp(callee, 'callee', 'RTP/SAVP', [`a=crypto:${relay.tag} ${SDES_SUITE} inline:${calleeKey!.toString('base64')}`]) : audioSdp(callee, 'callee');
  const answer = await ng.request({
    ...common, command: 'answer', 'to-tag': tags.to, ...(direction ? { direction: [direction[1], direction[0]] } : {}), sdp: calleeSdp,
  });
  if (answer['result'] !== 'ok') throw new Error(`answer failed: ${JSON.stringify(answer)}`);
  // The answer goes to the caller: its port is where the caller sends; the offer's, the callee's.
  return { callerTo: mediaEndpoint(answer['sdp']), calleeTo: mediaEndpoint(offer['sdp']), ...(relay ? { relayKey: relay.key } : {}) };
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

/** A phone's socket on loopback, with buffers large enough that the benchmark never drops. */
export async function loopbackSocket(): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}
