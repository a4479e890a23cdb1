import { collectDefaultMetrics, Registry } from 'prom-client';
import type { CallRegistry } from '../call/CallRegistry.js';
import type { LocalInterfaces } from '../media/LocalInterface.js';
import type { StoreFigures } from '../store/wiring.js';
import { registerControlMetrics } from './ControlMetrics.js';
import { NgMetrics } from './NgMetrics.js';
import { registerPlaybackMetrics } from './PlaybackMetrics.js';
import { registerSubscriptionMetrics } from './SubscriptionMetrics.js';
import { registerPortMetrics } from './PortMetrics.js';
import { registerSessionMetrics } from './SessionMetrics.js';
import { registerStoreMetrics } from './StoreMetrics.js';
import { registerTrafficMetrics } from './TrafficMetrics.js';
import { registerWorkerMetrics } from './WorkerMetrics.js';
import { scrapedCounter } from './scraped.js';

export interface MetricsSources {
  calls: CallRegistry;
  interfaces: LocalInterfaces;
  /** Names of the NG commands the relay implements: the only `command` label values besides `other`. */
  ngCommands: readonly string[];
  /** The Redis store's counters; absent without `redis`. */
  store?: () => StoreFigures;
  /** Times the threads released their garbage after signalling went quiet. */
  memoryReleases?: () => number;
}

/**
 * The relay's one metrics registry. Almost everything is read from the model when scraped;
 * only NG commands are counted as they are answered.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly ng: NgMetrics;

  constructor(sources: MetricsSources) {
    registerSessionMetrics(this.registry, sources.calls);
    registerControlMetrics(this.registry, sources.calls.stats.control);
    registerTrafficMetrics(this.registry);
    registerWorkerMetrics(this.registry);
    registerPortMetrics(this.registry, sources.interfaces);
    registerPlaybackMetrics(this.registry, sources.calls);
    registerSubscriptionMetrics(this.registry, sources.calls);
    if (sources.store) registerStoreMetrics(this.registry, sources.store);
    this.ng = new NgMetrics(this.registry, sources.ngCommands);
    const releases = sources.memoryReleases;
    if (releases) scrapedCounter(this.registry, { name: 'ngrelay_idle_memory_releases_total', help: 'Times every thread gave its garbage back to the system after signalling went quiet', labelNames: [], read: () => [[{}, releases()]] });
    // Node's process figures (CPU, memory, event-loop delay, GC), under their usual names.
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
