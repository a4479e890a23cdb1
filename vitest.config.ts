import { defineConfig } from 'vitest/config';

/**
 * Two lanes run side by side, each one file at a time (integration tests spawn daemons on
 * their own ports and namespaces, so files of different lanes never share a resource).
 * The "waiting" lane holds files that spend their time waiting on timers, failovers and
 * Redis, not on the CPU; everything else, the kernel path and the CPU-heavy files among it
 * (many relays, hundreds of calls), is in the main lane. A new file lands in the main lane
 * unless it is listed here.
 */
const WAITING = [
  'BalancerFailover',
  'CallTimeouts',
  'ClusterFailover',
  'ClusterOwnership',
  'ForeignCall',
  'Keyspace',
  'PortStock',
  'RedisOutage',
  'RedisStartup',
  'RedisStore',
  'Restore',
  'SeedCluster',
  'SharedRouter',
  'SrtpRestore',
  'Takeover',
].map((name) => `test/integration/${name}.test.ts`);

const shared = { testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    reporters: ['default', './test/SummaryReporter.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: WAITING,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
      {
        // A different pool, so that vitest runs this lane beside the other one.
        test: {
          ...shared,
          name: 'waiting',
          include: WAITING,
          pool: 'threads',
          poolOptions: { threads: { singleThread: true } },
        },
      },
    ],
  },
});
