import type { Registry } from 'prom-client';
import type { CloseReason } from '../call/Call.js';
import type { CallRegistry } from '../call/CallRegistry.js';
import { scrapedCounter, scrapedGauge, type Sample } from './scraped.js';

/** rtpengine's `reason` label values of rtpengine_closed_sessions_total, and where ngrelay keeps each figure. */
const RTPENGINE_CLOSED: readonly (readonly [reason: string, ours: CloseReason | 'rejected'])[] = [
  ['rejected', 'rejected'],
  ['timeout', 'timeout'],
  ['silent_timeout', 'silent_timeout'],
  ['final_timeout', 'final_timeout'],
  ['offer_timeout', 'offer_timeout'],
  ['terminated', 'deleted'],
  ['force_terminated', 'terminated'],
];

/** Calls: current counts, totals since start-up, why they ended, how long they lasted. */
export function registerSessionMetrics(registry: Registry, calls: CallRegistry): void {
  const st = calls.stats;
  const byType = (): Sample<'type'>[] => {
    const { own, foreign } = calls.count();
    return [[{ type: 'own' }, own], [{ type: 'foreign' }, foreign]];
  };
  const closedTotal = (): number => Object.values(st.closed).reduce((a, b) => a + b, 0);

  // rtpengine's names, for dashboards built for rtpengine.
  scrapedGauge(registry, { name: 'rtpengine_sessions', help: 'Current sessions (own: this relay owns them; foreign: standby copies of peers\' calls)', labelNames: ['type'], read: byType });
  scrapedCounter(registry, { name: 'rtpengine_sessions_total', help: 'Own sessions created since start-up (managed sessions)', read: () => [[{}, st.ownSessionsCreated]] });
  scrapedCounter(registry, {
    name: 'rtpengine_closed_sessions_total',
    help: 'Sessions ended since start-up, by reason (rejected: refused by max-sessions)',
    labelNames: ['reason'],
    read: () => RTPENGINE_CLOSED.map(([reason, ours]) => [{ reason }, ours === 'rejected' ? st.rejectedSessions : st.closed[ours]] as const),
  });
  scrapedGauge(registry, { name: 'rtpengine_transcoded_media', help: 'Converted streams now (one per direction of an m= line)', read: () => [[{}, calls.transcodedMedia()]] });
  scrapedGauge(registry, { name: 'rtpengine_uptime_seconds', help: 'Seconds since the relay started', read: () => [[{}, Math.floor((Date.now() - st.startedAt) / 1000)]] });
  scrapedGauge(registry, {
    name: 'rtpengine_call_duration_avg',
    help: 'Average duration of ended calls, in seconds',
    read: () => [[{}, closedTotal() > 0 ? st.closedDuration / closedTotal() : 0]],
  });
  scrapedCounter(registry, { name: 'rtpengine_call_duration_total', help: 'Sum of the durations of ended calls, in seconds', read: () => [[{}, st.closedDuration]] });

  // ngrelay's own.
  scrapedCounter(registry, {
    name: 'ngrelay_internal_errors_total',
    help: 'Unexpected exceptions contained since start-up (the call each one hit was ended; the relay went on)',
    read: () => [[{}, st.internalErrors]],
  });
  scrapedGauge(registry, { name: 'ngrelay_calls', help: 'Current calls by ownership (own or foreign)', labelNames: ['type'], read: byType });
  scrapedCounter(registry, {
    name: 'ngrelay_calls_created_total',
    help: 'Calls created since start-up, by ownership at creation',
    labelNames: ['type'],
    read: () => [[{ type: 'own' }, st.ownSessionsCreated], [{ type: 'foreign' }, st.foreignSessionsCreated]],
  });
  scrapedCounter(registry, {
    name: 'ngrelay_calls_closed_total',
    help: 'Calls ended since start-up, by ngrelay\'s reason',
    labelNames: ['reason'],
    read: () => (Object.keys(st.closed) as CloseReason[]).map((reason) => [{ reason }, st.closed[reason]] as const),
  });
}
