import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/Config.js';
import { describeRedis } from '../config/RedisSpec.js';

/** ms between ioredis's retries of a Redis Cluster command during a failover. */
const CLUSTER_RETRY_MS = 100;

/** One connection to the shared keyspace, whatever the engine: ioredis's Redis or Cluster. */
export type SharedConnection = Redis | Cluster;

/**
 * Connects to the store of `cluster-mode = shared`. The engines are ioredis's own:
 * - `redis`: one server (`redis = HOST:PORT/DB`);
 * - `sentinel`: `redis` and `redis-nodes` name the sentinels, `redis-master-name` the master;
 *   ioredis asks them for the master and follows a failover;
 * - `cluster`: `redis` and `redis-nodes` are start-up nodes; ioredis learns the slots and
 *   follows redirections and failovers.
 * Commands wait in ioredis's offline queue while the connection is re-established (a failover),
 * bounded by the command timeout: a reply waits at most that long.
 */
export function connectShared(c: Config): SharedConnection {
  const spec = c.redis!;
  const commandTimeout = c.redisCmdTimeout > 0 ? c.redisCmdTimeout : 2000;
  const common: RedisOptions = {
    password: spec.password,
    connectTimeout: c.redisConnectTimeout,
    commandTimeout,
    enableOfflineQueue: true,
    // A command outlives lost connections (a Sentinel failover takes seconds) until the command
    // timeout: a node then answers late or with an error, never with a retry count's early error.
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(50 * times, 500),
    lazyConnect: true,
    // Commands issued in one tick (every call's write-behind batch, a claim and its index entry)
    // go to the server in one write: fewer system calls on both sides, one round trip.
    enableAutoPipelining: true,
  };
  const nodes = [{ host: spec.host, port: spec.port }, ...c.redisNodes.map((a) => ({ host: a.host, port: a.port }))];
  switch (c.redisEngine) {
    case 'redis':
      return new Redis({ ...common, host: spec.host, port: spec.port, db: spec.db });
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: nodes,
        name: c.redisMasterName,
        db: spec.db,
        sentinelRetryStrategy: (times) => Math.min(100 * times, 500),
        // After a failover the old master's connection may still answer as a replica for a moment.
        failoverDetector: true,
      } as RedisOptions);
    case 'cluster':
      return new Cluster(nodes, {
        enableOfflineQueue: true,
        clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
        lazyConnect: true,
        // Not here: a batch that meets a MOVED during a failover fails as a whole instead of
        // following the redirection.
        redisOptions: { ...common, enableAutoPipelining: false },
        slotsRefreshTimeout: 2000,
        // While a replica takes over a dead master (the cluster node timeout and more), commands
        // meet CLUSTERDOWN, MOVED to the dead master and closed connections. ioredis retries each
        // after a delay but gives up after `maxRedirections` tries (16 by default, about 1.6 s,
        // shorter than any failover); with enough tries the command timeout is what ends a command.
        retryDelayOnFailover: CLUSTER_RETRY_MS,
        retryDelayOnClusterDown: CLUSTER_RETRY_MS,
        retryDelayOnTryAgain: CLUSTER_RETRY_MS,
        // A MOVED is followed at once, so a retry round may take two tries.
        maxRedirections: 2 * Math.ceil(commandTimeout / CLUSTER_RETRY_MS) + 16,
      });
  }
}

/** For logs: the engine and its first address, never a password. */
export function describeShared(c: Config): string {
  return `${c.redisEngine} ${describeRedis(c.redis!)}${c.redisNodes.length ? ` (+${c.redisNodes.length} more)` : ''}`;
}
