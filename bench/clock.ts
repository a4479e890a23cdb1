/**
 * Milliseconds on CLOCK_MONOTONIC, the one clock every process of the machine shares (network
 * namespaces do not change it), so a packet stamped by one process can be timed by another.
 * `performance.now()` counts from each process's own start and cannot be compared across them.
 */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
