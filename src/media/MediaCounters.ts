/**
 * Relay-wide packet counters. The media path bumps its thread's totals (a plain typed array,
 * no allocation); on a media worker that array lives in memory shared with the control
 * thread, which adds every worker's totals up when asked.
 */
export const TOTAL_PACKETS = 0;
export const TOTAL_BYTES = 1;
export const TOTAL_ERRORS = 2;
/** RTP packets dropped by `block media`, silenced by `silence media`, DTMF packets dropped or rewritten by `block DTMF`. */
export const TOTAL_BLOCKED = 3;
export const TOTAL_SILENCED = 4;
export const TOTAL_DTMF_BLOCKED = 5;
export const TOTAL_SLOTS = 6;
/**
 * Per media thread, beside its totals and never summed: its young-generation garbage
 * collections and the milliseconds all its collections took (`list workers`).
 */
export const THREAD_YOUNG_GCS = 6;
export const THREAD_GC_MS = 7;

/** This thread's userspace totals; the hot path writes here. */
export let threadTotals: Float64Array<ArrayBufferLike> = new Float64Array(TOTAL_SLOTS);

/** On a media worker: count into memory the control thread reads. */
export function shareThreadTotals(view: Float64Array<ArrayBufferLike>): void {
  threadTotals = view;
}

const workerTotals = new Set<Float64Array<ArrayBufferLike>>();

/** On the control thread: a worker's totals to add in (and to leave out once it is gone). */
export function addWorkerTotals(view: Float64Array<ArrayBufferLike>): void {
  workerTotals.add(view);
}

export function removeWorkerTotals(view: Float64Array<ArrayBufferLike>, keep: boolean): void {
  workerTotals.delete(view);
  // A worker that died still relayed what it relayed.
  if (keep) for (let i = 0; i < TOTAL_SLOTS; i++) retired[i]! += view[i]!;
}

const retired = new Float64Array(TOTAL_SLOTS);

function total(i: number): number {
  let n = threadTotals[i]! + retired[i]!;
  for (const w of workerTotals) n += w[i]!;
  return n;
}

export const mediaCounters = {
  /** Relayed in userspace, on any thread. */
  get packets(): number {
    return total(TOTAL_PACKETS);
  },
  get bytes(): number {
    return total(TOTAL_BYTES);
  },
  get errors(): number {
    return total(TOTAL_ERRORS);
  },
  get blocked(): number {
    return total(TOTAL_BLOCKED);
  },
  get silenced(): number {
    return total(TOTAL_SILENCED);
  },
  get dtmfBlocked(): number {
    return total(TOTAL_DTMF_BLOCKED);
  },
  /** Relayed by the kernel fast path (read back once a second). */
  kernelPackets: 0,
  kernelBytes: 0,
  kernelErrors: 0,
};
