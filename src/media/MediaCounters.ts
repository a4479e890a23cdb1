/** Relay-wide packet counters, bumped on the hot path (plain numbers, no allocation). */
export const mediaCounters = {
  /** Relayed in userspace. */
  packets: 0,
  bytes: 0,
  errors: 0,
  /** Relayed by the kernel fast path (read back once a second). */
  kernelPackets: 0,
  kernelBytes: 0,
  kernelErrors: 0,
};
