import { mediaCounters } from '../media/MediaCounters.js';
import type { CallRegistry } from './CallRegistry.js';

/** The figures `statistics` (NG) and `list totals` / `list jsonstats` (CLI) report. */
export function statisticsReport(registry: CallRegistry) {
  const st = registry.stats;
  const { own, foreign } = registry.count();
  const closedTotal = Object.values(st.closed).reduce((a, b) => a + b, 0);
  return {
    currentstatistics: {
      sessionsown: own,
      sessionsforeign: foreign,
      sessionstotal: own + foreign,
      transcodedmedia: registry.transcodedMedia(),
      packetrate: 0,
      byterate: 0,
      errorrate: 0,
    },
    totalstatistics: {
      uptime: Math.floor((Date.now() - st.startedAt) / 1000),
      managedsessions: st.ownSessionsCreated,
      rejectedsessions: st.rejectedSessions,
      timeoutsessions: st.closed.timeout,
      silenttimeoutsessions: st.closed.silent_timeout,
      finaltimeoutsessions: st.closed.final_timeout,
      offertimeoutsessions: st.closed.offer_timeout,
      regularterminatedsessions: st.closed.deleted,
      forcedterminatedsessions: st.closed.terminated,
      closedsessions: closedTotal,
      relayedpackets: mediaCounters.packets + mediaCounters.kernelPackets,
      relayedbytes: mediaCounters.bytes + mediaCounters.kernelBytes,
      relayedpacketerrors: mediaCounters.errors + mediaCounters.kernelErrors,
      // Strings with 6 decimals, as rtpengine sends them (bencode has no floats).
      avgcallduration: (closedTotal > 0 ? st.closedDuration / closedTotal : 0).toFixed(6),
      totalcallsduration: st.closedDuration.toFixed(6),
    },
    controlstatistics: st.control.report(),
  };
}
