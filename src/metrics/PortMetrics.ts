import type { Registry } from 'prom-client';
import type { LocalInterfaces } from '../media/LocalInterface.js';
import { scrapedGauge, type Sample } from './scraped.js';

/**
 * Media ports per interface address, from the port pools. Label values come from the
 * configuration only. Two interface names on one address share its pool, so they show the same figures.
 */
export function registerPortMetrics(registry: Registry, interfaces: LocalInterfaces): void {
  const each = <L extends string>(labels: (name: string, address: string) => Record<L, string>, value: (used: number, size: number) => number) =>
    (): Sample<L>[] => interfaces.all.map((a) => [labels(a.name, a.address), value(a.pool.inUse, a.pool.size)]);
  const rtpe = (name: string, address: string) => ({ name, address });
  const ours = (iface: string, address: string) => ({ interface: iface, address });
  const used = (u: number): number => u;
  const free = (u: number, size: number): number => size - u;

  scrapedGauge(registry, { name: 'rtpengine_ports_used', help: 'Media ports in use', labelNames: ['name', 'address'], read: each(rtpe, used) });
  scrapedGauge(registry, { name: 'rtpengine_ports_free', help: 'Media ports free', labelNames: ['name', 'address'], read: each(rtpe, free) });
  scrapedGauge(registry, { name: 'rtpengine_ports', help: 'Media ports in the range (port-min to port-max)', labelNames: ['name', 'address'], read: each(rtpe, (_u, size) => size) });
  scrapedGauge(registry, { name: 'ngrelay_ports_used', help: 'Media ports in use (RTP and RTCP, own and foreign calls)', labelNames: ['interface', 'address'], read: each(ours, used) });
  scrapedGauge(registry, { name: 'ngrelay_ports_free', help: 'Media ports free for new calls', labelNames: ['interface', 'address'], read: each(ours, free) });
}
