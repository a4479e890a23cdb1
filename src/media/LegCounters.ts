/**
 * A leg's ingress counters as a few doubles: in the leg's own array on this thread, or in a
 * slot of memory shared with the control thread when the leg lives on a media worker, so
 * that the control thread reads them without a message.
 */
export const COUNTER_SLOTS = 8;
export const PACKETS = 0;
export const BYTES = 1;
export const ERRORS = 2;
/** Epoch ms of the last packet. */
export const LAST_PACKET = 3;
/** SSRC of the last RTP packet (0 = none yet). */
export const SSRC = 4;

export function ownCounters(now: number): Float64Array {
  const c = new Float64Array(COUNTER_SLOTS);
  c[LAST_PACKET] = now;
  return c;
}
