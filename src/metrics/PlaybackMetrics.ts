import type { Registry } from 'prom-client';
import type { CallRegistry } from '../call/CallRegistry.js';
import { activePlaybacks, playbackCounters } from '../call/Playback.js';
import { scrapedCounter, scrapedGauge } from './scraped.js';

/** Files and digits played into calls (`play media`, `play DTMF`). */
export function registerPlaybackMetrics(registry: Registry, calls: CallRegistry): void {
  scrapedCounter(registry, { name: 'ngrelay_players_started_total', help: 'File playbacks started (play media) since start-up', read: () => [[{}, playbackCounters.started]] });
  scrapedGauge(registry, { name: 'ngrelay_players_active', help: 'Playbacks (files and digits) playing now, one per party and media', read: () => [[{}, activePlaybacks(calls.values())]] });
  scrapedCounter(registry, { name: 'ngrelay_dtmf_events_sent_total', help: 'Digits injected (play DTMF) since start-up, as RFC 4733 events or tones', read: () => [[{}, playbackCounters.dtmfEvents]] });
}
