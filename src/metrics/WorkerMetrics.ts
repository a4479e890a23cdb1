import type { Registry } from 'prom-client';
import { workerHealth } from '../media/workers/workerHealth.js';
import { scrapedCounter } from './scraped.js';

/** Media worker threads replaced (by cause) and the unhandled rejections they reported. */
export function registerWorkerMetrics(registry: Registry): void {
  scrapedCounter(registry, {
    name: 'ngrelay_media_worker_restarts_total',
    help: 'Media worker threads replaced, by cause: died (thread ended), hung (stopped answering), untrusted (unhandled rejection)',
    labelNames: ['cause'],
    read: () => Object.entries(workerHealth.restarts).map(([cause, n]) => [{ cause }, n] as const),
  });
  scrapedCounter(registry, {
    name: 'ngrelay_media_worker_unhandled_rejections_total',
    help: 'Promise rejections nobody handled on media worker threads',
    read: () => [[{}, workerHealth.unhandledRejections]],
  });
}
