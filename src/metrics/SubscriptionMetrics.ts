import type { Registry } from 'prom-client';
import type { CallRegistry } from '../call/CallRegistry.js';
import { activeSubscribers, subscriptionCounters } from '../call/Subscriptions.js';
import { scrapedCounter, scrapedGauge } from './scraped.js';

/** Media forking: subscribers getting copies of parties' media (`subscribe request` / `answer`, `unsubscribe`). */
export function registerSubscriptionMetrics(registry: Registry, calls: CallRegistry): void {
  scrapedGauge(registry, { name: 'ngrelay_subscribers', help: 'Subscribers receiving copies of parties\' media now (own and foreign calls)', read: () => [[{}, activeSubscribers(calls.values())]] });
  scrapedCounter(registry, { name: 'ngrelay_subscriptions_started_total', help: 'Subscribe answers that started copies, since start-up', read: () => [[{}, subscriptionCounters.answered]] });
  scrapedCounter(registry, { name: 'ngrelay_subscriptions_ended_total', help: 'Subscribers unsubscribed, since start-up', read: () => [[{}, subscriptionCounters.unsubscribed]] });
}
