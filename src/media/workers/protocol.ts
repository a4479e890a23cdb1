import type { Endpoint, LegCrypto, LegPolicy } from '../MediaPlane.js';
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
}

export type ToWorker =
  | { op: 'bindPair'; req: number; ids: [number, number]; slots: [number, number]; address: string; family: 4 | 6; port: number }
  | { op: 'stock'; req: number; address: string; family: 4 | 6; port: number }
  | { op: 'adopt'; ids: [number, number]; slots: [number, number]; address: string; family: 4 | 6; port: number }
  | { op: 'unstock'; req: number; address: string; port: number }
  | { op: 'bind'; req: number; id: number; slot: number; address: string; family: 4 | 6; port: number; rtcpOnly: boolean }
  | { op: 'policy'; id: number; policy: LegPolicy }
  | { op: 'forward'; id: number; rtp: number | null; rtcp: number | null }
  | { op: 'sdp'; id: number; address: string; port: number; now: number }
  | { op: 'restore'; id: number; sdp: Endpoint | null; endpoint: (Endpoint & { confirmed: boolean }) | null }
  | { op: 'watch'; id: number; on: boolean }
  | { op: 'tap'; id: number; on: boolean }
  | { op: 'crypto'; id: number; crypto: LegCrypto | null }
  | { op: 'stop'; id: number }
  | { op: 'close'; id: number }
  | { op: 'sync'; req: number };

/** The part of a leg's state the control thread mirrors. */
export interface LegState {
  remoteAddress: string;
  remotePort: number;
  sdpAddress: string;
  sdpPort: number;
  confirmed: boolean;
}

export type FromWorker =
  | { ev: 'done'; req: number; error?: string }
  | { ev: 'state'; id: number; state: LegState; learned: boolean }
  | { ev: 'activity'; id: number }
  | { ev: 'packet'; id: number; data: Uint8Array; src: Endpoint; dst: Endpoint };
