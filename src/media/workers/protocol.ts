import type { Endpoint, IcePair, LegCrypto, LegPolicy, LegSrtpState, MediaPlane } from '../MediaPlane.js';
import type { PlaybackSettings } from '../engine/PlaybackSettings.js';
import type { TranscodeSettings } from '../engine/TranscodeSettings.js';
import type { MediaControl } from '../MediaControl.js';
import type { DtmfReporting } from '../DtmfReport.js';
import type { DtlsIdentity } from '../transforms/DtlsIdentity.js';

/**
 * Messages between the control thread and a media worker. Legs are numbered by the control
 * thread; each has a slot of counters in the worker's shared memory (LegCounters layout),
 * slot 0 holding the worker's relay-wide totals.
 */

export interface WorkerData {
  index: number;
  /** COUNTER_SLOTS doubles per slot. */
  shared: SharedArrayBuffer;
  /** The relay's DTLS certificate (made once by the control thread). */
  identity: DtlsIdentity | null;
  /** Where DTMF reports go (`dtmf-log-dest`), or null. */
  dtmfLog: Endpoint | null;
  /** The relay's instance id (the CNAME of its own RTCP). */
  instanceId: string;
  /** One Int32 the worker bumps while its event loop turns: the control thread's sign of life. */
  heartbeat: SharedArrayBuffer;
  /** Honour `fault` messages (set only by NGRELAY_TEST_HOOKS=1). */
  testHooks: boolean;
}

/** What a test can make a worker do: stop answering (a busy loop) or leave a rejection unhandled. */
export type InjectedFault = Parameters<MediaPlane['injectFault']>[1];

export type ToWorker =
  | { op: 'bindPair'; req: number; ids: [number, number]; slots: [number, number]; address: string; family: 4 | 6; port: number }
  | { op: 'stock'; req: number; address: string; family: 4 | 6; port: number }
  | { op: 'adopt'; ids: [number, number]; slots: [number, number]; address: string; family: 4 | 6; port: number }
  | { op: 'unstock'; req: number; address: string; port: number }
  /** Both legs of a pair closed at once: their sockets stay bound, parked for a call to come. */
  | { op: 'restock'; ids: [number, number]; address: string; port: number }
  | { op: 'bind'; req: number; id: number; slot: number; address: string; family: 4 | 6; port: number; rtcpOnly: boolean }
  /** ICE: binds one more address of a leg (an alternate); answered when bound or failed. */
  | { op: 'alt'; req: number; id: number; address: string; family: 4 | 6; port: number }
  | { op: 'dropAlts'; id: number }
  | { op: 'policy'; id: number; policy: LegPolicy }
  | { op: 'forward'; id: number; rtp: number | null; rtcp: number | null }
  /** BUNDLE: the m= lines sharing a leg's port and their forward legs (ids on the same worker; no routes: none). */
  | { op: 'demux'; id: number; midExtension: number; routes: { mid: string; payloadTypes: number[]; rtp: number | null; rtcp: number | null }[] }
  /** The subscribers' legs a leg copies to (ids of legs on the same worker). */
  | { op: 'fanout'; id: number; targets: { rtp: number; rtcp: number | null; transcoding: TranscodeSettings | null }[] }
  | { op: 'sdp'; id: number; address: string; port: number; now: number }
  | { op: 'restore'; id: number; sdp: Endpoint | null; endpoint: (Endpoint & { confirmed: boolean }) | null }
  | { op: 'icePair'; id: number; pair: IcePair }
  | { op: 'watch'; id: number; on: boolean }
  | { op: 'tap'; id: number; on: boolean }
  | { op: 'crypto'; id: number; crypto: LegCrypto | null }
  /** SRTP indices from a record (or last reported, for a new worker) to continue from. */
  | { op: 'srtp'; id: number; state: LegSrtpState }
  | { op: 'transcode'; id: number; settings: TranscodeSettings | null }
  /** An RTCP port of a converted stream: its party's RTP leg (an id on the same worker), or null. */
  | { op: 'rtcpOf'; id: number; rtp: number | null }
  /** The kernel fast path relays the leg's packets now (they bypass the worker until it stops). */
  | { op: 'offloaded'; id: number }
  | { op: 'play'; id: number; settings: PlaybackSettings | null; rtcp: number | null }
  | { op: 'control'; id: number; control: MediaControl | null }
  | { op: 'dtmf'; id: number; reporting: DtmfReporting | null }
  | { op: 'stop'; id: number }
  | { op: 'close'; id: number }
  | { op: 'sync'; req: number }
  /** Give the thread's garbage back to the system (see runtime/IdleMemory). */
  | { op: 'release' }
  | { op: 'fault'; fault: InjectedFault };

/** The part of a leg's state the control thread mirrors. */
export interface LegState {
  remoteAddress: string;
  remotePort: number;
  sdpAddress: string;
  sdpPort: number;
  confirmed: boolean;
  /** ICE: the pair media uses (null: none). */
  ice: IcePair | null;
}

export type FromWorker =
  /** Sent once, when the worker has loaded and listens: deadlines count from then. */
  | { ev: 'ready' }
  | { ev: 'done'; req: number; error?: string }
  | { ev: 'state'; id: number; state: LegState; learned: boolean }
  | { ev: 'activity'; id: number }
  /** Where the leg's SRTP streams stand: sent when an index moved on far enough to be recorded, never per packet. */
  | { ev: 'srtp'; id: number; state: LegSrtpState }
  | { ev: 'packet'; id: number; data: Uint8Array; src: Endpoint; dst: Endpoint }
  /** A promise rejected with nobody to handle it; `trusted`: the worker's state is known to be intact. */
  | { ev: 'fault'; error: string; trusted: boolean };

/**
 * Batches travel as flat arrays: the frequent messages as a code and a fixed run of values,
 * the rest as one object after code 0. A structured clone of numbers and strings in one
 * array costs a third of the same messages as objects, whose keys are written every time.
 */
export type Batch = unknown[];

export function putToWorker(out: Batch, m: ToWorker): void {
  switch (m.op) {
    case 'sdp':
      out.push(1, m.id, m.address, m.port, m.now);
      return;
    case 'forward':
      out.push(2, m.id, m.rtp, m.rtcp);
      return;
    case 'close':
      out.push(3, m.id);
      return;
    case 'adopt':
      out.push(4, m.ids[0], m.ids[1], m.slots[0], m.slots[1], m.address, m.family, m.port);
      return;
    case 'sync':
      out.push(5, m.req);
      return;
    case 'stock':
      out.push(6, m.req, m.address, m.family, m.port);
      return;
    case 'restock':
      out.push(7, m.ids[0], m.ids[1], m.address, m.port);
      return;
    default:
      out.push(0, m);
  }
}

export function eachToWorker(batch: Batch, handle: (m: ToWorker) => void): void {
  const b = batch as never[];
  for (let i = 0; i < b.length; ) {
    switch (b[i] as number) {
      case 1:
        handle({ op: 'sdp', id: b[i + 1], address: b[i + 2], port: b[i + 3], now: b[i + 4] });
        i += 5;
        break;
      case 2:
        handle({ op: 'forward', id: b[i + 1], rtp: b[i + 2], rtcp: b[i + 3] });
        i += 4;
        break;
      case 3:
        handle({ op: 'close', id: b[i + 1] });
        i += 2;
        break;
      case 4:
        handle({ op: 'adopt', ids: [b[i + 1], b[i + 2]], slots: [b[i + 3], b[i + 4]], address: b[i + 5], family: b[i + 6], port: b[i + 7] });
        i += 8;
        break;
      case 5:
        handle({ op: 'sync', req: b[i + 1] });
        i += 2;
        break;
      case 6:
        handle({ op: 'stock', req: b[i + 1], address: b[i + 2], family: b[i + 3], port: b[i + 4] });
        i += 5;
        break;
      case 7:
        handle({ op: 'restock', ids: [b[i + 1], b[i + 2]], address: b[i + 3], port: b[i + 4] });
        i += 5;
        break;
      default:
        handle(b[i + 1]);
        i += 2;
    }
  }
}

export function putFromWorker(out: Batch, m: FromWorker): void {
  switch (m.ev) {
    case 'done':
      out.push(1, m.req, m.error ?? null);
      return;
    case 'state': {
      const s = m.state;
      out.push(2, m.id, s.remoteAddress, s.remotePort, s.sdpAddress, s.sdpPort, s.confirmed, m.learned, s.ice);
      return;
    }
    case 'activity':
      out.push(3, m.id);
      return;
    default:
      out.push(0, m);
  }
}

export function eachFromWorker(batch: Batch, handle: (m: FromWorker) => void): void {
  const b = batch as never[];
  for (let i = 0; i < b.length; ) {
    switch (b[i] as number) {
      case 1:
        handle(b[i + 2] === null ? { ev: 'done', req: b[i + 1] } : { ev: 'done', req: b[i + 1], error: b[i + 2] });
        i += 3;
        break;
      case 2:
        handle({ ev: 'state', id: b[i + 1], state: { remoteAddress: b[i + 2], remotePort: b[i + 3], sdpAddress: b[i + 4], sdpPort: b[i + 5], confirmed: b[i + 6], ice: b[i + 8] }, learned: b[i + 7] });
        i += 9;
        break;
      case 3:
        handle({ ev: 'activity', id: b[i + 1] });
        i += 2;
        break;
      default:
        handle(b[i + 1]);
        i += 2;
    }
  }
}
