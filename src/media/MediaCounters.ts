/** Relay-wide packet counters, bumped on the hot path (plain numbers, no allocation). */
export const mediaCounters = {
  packets: 0,
  bytes: 0,
  errors: 0,
};
