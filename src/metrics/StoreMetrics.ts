import type { Registry } from 'prom-client';
import type { StoreFigures } from '../store/wiring.js';
import { scrapedCounter, scrapedGauge } from './scraped.js';

const EVENTS = ['sadd', 'set', 'del', 'other'] as const;

/** Redis persistence and clustering, from the store's own counters (only when `redis` is set). */
export function registerStoreMetrics(registry: Registry, figures: () => StoreFigures): void {
  scrapedGauge(registry, { name: 'ngrelay_redis_connected', help: '1 while the connection to the Redis DB of own calls is up', read: () => [[{}, figures().connected ? 1 : 0]] });
  scrapedGauge(registry, { name: 'ngrelay_redis_write_queue', help: 'Calls whose write or delete waits to go to Redis', read: () => [[{}, figures().writeQueue]] });
  scrapedCounter(registry, { name: 'ngrelay_redis_write_failures_total', help: 'Redis writes and deletes that failed (each is retried)', read: () => [[{}, figures().writeFailures]] });
  scrapedCounter(registry, {
    name: 'ngrelay_keyspace_events_total',
    help: 'Keyspace notifications received from subscribed DBs, by event (sadd, set, del, other)',
    labelNames: ['event'],
    read: () => {
      const ev = figures().keyspaceEvents;
      return EVENTS.map((event) => [{ event }, ev[event]] as const);
    },
  });
  scrapedCounter(registry, { name: 'ngrelay_takeovers_total', help: 'Foreign calls this relay took over (signalling or media reached it)', read: () => [[{}, figures().takeovers]] });
  scrapedCounter(registry, { name: 'ngrelay_calls_yielded_total', help: 'Own calls a peer took over', read: () => [[{}, figures().yields]] });
}
