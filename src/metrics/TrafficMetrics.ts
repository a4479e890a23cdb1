import type { Registry } from 'prom-client';
import { mediaCounters } from '../media/MediaCounters.js';
import { scrapedCounter } from './scraped.js';

/**
 * Relayed media, read from the relay-wide counters the media path bumps anyway. Under
 * rtpengine's names by path (type="userspace" or "kernel"), and as sums under ngrelay's.
 */
export function registerTrafficMetrics(registry: Registry): void {
  const userspace = { type: 'userspace' };
  const kernel = { type: 'kernel' };
  const c = mediaCounters;
  scrapedCounter(registry, { name: 'rtpengine_packets_total', help: 'Packets relayed', labelNames: ['type'], read: () => [[userspace, c.packets], [kernel, c.kernelPackets]] });
  scrapedCounter(registry, { name: 'rtpengine_bytes_total', help: 'Bytes relayed', labelNames: ['type'], read: () => [[userspace, c.bytes], [kernel, c.kernelBytes]] });
  scrapedCounter(registry, {
    name: 'rtpengine_packet_errors_total',
    help: 'Packets dropped (from a source the stream does not accept, or that could not be sent)',
    labelNames: ['type'],
    read: () => [[userspace, c.errors], [kernel, c.kernelErrors]],
  });
  scrapedCounter(registry, {
    name: 'ngrelay_media_control_packets_total',
    help: 'RTP packets changed by media control: dropped by block media (blocked), made silent by silence media (silenced), DTMF dropped or replaced by block DTMF (dtmf_blocked)',
    labelNames: ['action'],
    read: () => [[{ action: 'blocked' }, c.blocked], [{ action: 'silenced' }, c.silenced], [{ action: 'dtmf_blocked' }, c.dtmfBlocked]],
  });
  scrapedCounter(registry, { name: 'ngrelay_relayed_packets_total', help: 'Media packets received and relayed (RTP and RTCP)', read: () => [[{}, c.packets + c.kernelPackets]] });
  scrapedCounter(registry, { name: 'ngrelay_relayed_bytes_total', help: 'Media bytes received and relayed (UDP payload)', read: () => [[{}, c.bytes + c.kernelBytes]] });
  scrapedCounter(registry, { name: 'ngrelay_relayed_packet_errors_total', help: 'Media packets dropped (from a source the stream does not accept, or that could not be sent)', read: () => [[{}, c.errors + c.kernelErrors]] });
}
