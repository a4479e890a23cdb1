import type { Services } from '../Services.js';
import { CONTROL_COMMANDS } from '../call/ControlStatistics.js';
import { mediaCounters } from '../media/MediaCounters.js';

const line = (k: string, v: string | number): string => ` ${k.padEnd(48)}:${v}\n`;
/** `%ld.%06ld`, rtpengine's seconds. */
const secs = (n: number): string => n.toFixed(6);

/**
 * `list totals` as rtpengine 10.5 prints it (same sections, lines and order). ngrelay has no
 * graphite and no MOS figures, and no kernel rates: those lines show rtpengine's values for a
 * relay without them (0).
 */
export function totalsText(s: Services): string {
  const st = s.registry.stats;
  const { own, foreign } = s.registry.count();
  const r = s.rates;
  // Media streams that carried packets: kernel-only when every port of it is offloaded, mixed when some are.
  const paths = { user: 0, kernel: 0, mixed: 0 };
  for (const c of s.registry.all()) {
    for (const m of c.medias()) {
      if (!m.rtp) continue;
      const legs = m.streams().filter((st) => st.leg);
      if (!legs.some((st) => st.leg!.packets > 0 || st.leg!.offloaded)) continue;
      const off = legs.filter((st) => st.leg!.offloaded).length;
      if (off === 0) paths.user++;
      else if (off === legs.length) paths.kernel++;
      else paths.mixed++;
    }
  }
  const closed = st.managedSessions;
  const avg = closed > 0 ? st.closedDuration / closed : 0;
  const variance = closed > 0 ? Math.max(0, st.closedDurationSquared / closed - avg * avg) : 0;
  const c = st.closed;
  const u = mediaCounters;
  const tot = { packets: u.packets + u.kernelPackets, bytes: u.bytes + u.kernelBytes, errors: u.errors + u.kernelErrors };
  let out =
    '\nStatistics over currently running sessions:\n\n' +
    line('Owned sessions', own) +
    line('Foreign sessions', foreign) +
    line('Total sessions', own + foreign) +
    line('Transcoded media', s.registry.transcodedMedia()) +
    line('Packets per second (userspace)', r.packets) +
    line('Bytes per second (userspace)', r.bytes) +
    line('Errors per second (userspace)', r.errors) +
    line('Packets per second (kernel)', 0) +
    line('Bytes per second (kernel)', 0) +
    line('Errors per second (kernel)', 0) +
    line('Packets per second (total)', r.packets) +
    line('Bytes per second (total)', r.bytes) +
    line('Errors per second (total)', r.errors) +
    line('Userspace-only media streams', paths.user) +
    line('Kernel-only media streams', paths.kernel) +
    line('Mixed kernel/userspace media streams', paths.mixed) +
    '\nTotal statistics (does not include current running sessions):\n\n' +
    line('Uptime of rtpengine', `${Math.floor((Date.now() - st.startedAt) / 1000)} seconds`) +
    line('Total managed sessions', closed) +
    line('Total rejected sessions', st.rejectedSessions) +
    line('Total timed-out sessions via TIMEOUT', c.timeout) +
    line('Total timed-out sessions via SILENT_TIMEOUT', c.silent_timeout) +
    line('Total timed-out sessions via FINAL_TIMEOUT', c.final_timeout) +
    line('Total timed-out sessions via OFFER_TIMEOUT', c.offer_timeout) +
    line('Total regular terminated sessions', c.deleted) +
    line('Total forced terminated sessions', c.terminated) +
    line('Total relayed packets (userspace)', u.packets) +
    line('Total relayed packet errors (userspace)', u.errors) +
    line('Total relayed bytes (userspace)', u.bytes) +
    line('Total relayed packets (kernel)', u.kernelPackets) +
    line('Total relayed packet errors (kernel)', u.kernelErrors) +
    line('Total relayed bytes (kernel)', u.kernelBytes) +
    line('Total relayed packets', tot.packets) +
    line('Total relayed packet errors', tot.errors) +
    line('Total relayed bytes', tot.bytes) +
    line('Total number of streams with no relayed packets', st.noPacketSessions) +
    line('Total number of 1-way streams', st.oneWaySessions) +
    line('Average call duration', `${secs(avg)} seconds`) +
    line('Total calls duration', `${secs(st.closedDuration)} seconds`) +
    line('Total calls duration squared', `${secs(st.closedDurationSquared)} seconds squared`) +
    line('Total calls duration standard deviation', `${secs(Math.sqrt(variance))} seconds`) +
    '\n\nGraphite interval statistics (last reported values to graphite):\n' +
    line('Total calls duration', `${secs(0)} seconds`) +
    '\n' +
    line('Min managed sessions', 0) +
    line('Max managed sessions', 0);
  for (const [command] of CONTROL_COMMANDS) out += line(`Min/Max/Avg ${command} processing delay`, '0.000000/0.000000/0.000000 sec');
  for (const [command] of CONTROL_COMMANDS) out += line(`Min/Max/Avg ${command} requests per second`, '0/0/0 per sec');
  out +=
    '\n\nMOS statistics:\n\n' +
    line('Sum of all MOS values sampled', secs(0)) +
    line('Sum of all MOS square values sampled', secs(0)) +
    line('Total number of MOS samples', 0) +
    line('Average MOS', secs(0)) +
    line('MOS standard deviation', secs(0)) +
    '\n\nControl statistics:\n\n' +
    st.control.table() +
    '\n\n\n\n';
  return out;
}
