import type { Registry } from 'prom-client';
import { mediaCounters } from '../media/MediaCounters.js';
import { scrapedCounter } from './scraped.js';

/**
 * Relayed media, read from the relay-wide counters the media path bumps anyway. Under
 * rtpengine's names with type="userspace" (ngrelay has no kernel path), and unlabelled under ngrelay's.
 */
export function registerTrafficMetrics(registry: Registry): void {
  const userspace = { type: 'userspace' };
  scrapedCounter(registry, { name: 'rtpengine_packets_total', help: 'Packets relayed', labelNames: ['type'], read: () => [[userspace, mediaCounters.packets]] });
  scrapedCounter(registry, { name: 'rtpengine_bytes_total', help: 'Bytes relayed', labelNames: ['type'], read: () => [[userspace, mediaCounters.bytes]] });
  scrapedCounter(registry, {
    name: 'rtpengine_packet_errors_total',
    help: 'Packets dropped (from a source the stream does not accept, or that could not be sent)',
    labelNames: ['type'],
    read: () => [[userspace, mediaCounters.errors]],
  });
  scrapedCounter(registry, { name: 'ngrelay_relayed_packets_total', help: 'Media packets received and relayed (RTP and RTCP)', read: () => [[{}, mediaCounters.packets]] });
  scrapedCounter(registry, { name: 'ngrelay_relayed_bytes_total', help: 'Media bytes received and relayed (UDP payload)', read: () => [[{}, mediaCounters.bytes]] });
  scrapedCounter(registry, { name: 'ngrelay_relayed_packet_errors_total', help: 'Media packets dropped (from a source the stream does not accept, or that could not be sent)', read: () => [[{}, mediaCounters.errors]] });
}
