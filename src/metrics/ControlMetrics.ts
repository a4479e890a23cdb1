import type { Registry } from 'prom-client';
import { CONTROL_COMMANDS, type ControlStatistics } from '../call/ControlStatistics.js';
import { scrapedCounter, type Sample } from './scraped.js';

/**
 * rtpengine's per-proxy NG request figures (`list totals` "Control statistics"), read from
 * the same table. `request` is one of rtpengine's command names; `proxy` is the source IP of
 * NG requests, so there is one set of series per proxy that ever sent one.
 */
export function registerControlMetrics(registry: Registry, control: ControlStatistics): void {
  const perRequest = (field: 'count' | 'seconds') => (): Sample<'proxy' | 'request'>[] => {
    const out: Sample<'proxy' | 'request'>[] = [];
    for (const [proxy, p] of control.proxies) {
      for (const [request, short] of CONTROL_COMMANDS) out.push([{ proxy, request }, p.commands.get(short)?.[field] ?? 0]);
    }
    return out;
  };
  scrapedCounter(registry, { name: 'rtpengine_requests_total', help: 'NG requests by proxy and command', labelNames: ['proxy', 'request'], read: perRequest('count') });
  scrapedCounter(registry, { name: 'rtpengine_request_seconds_total', help: 'Seconds spent on NG requests, by proxy and command', labelNames: ['proxy', 'request'], read: perRequest('seconds') });
  scrapedCounter(registry, {
    name: 'rtpengine_errors_total',
    help: 'NG requests answered with an error, by proxy',
    labelNames: ['proxy'],
    read: () => [...control.proxies].map(([proxy, p]) => [{ proxy }, p.errors] as const),
  });
}
