import type { Relay } from './Relay.js';

/** The `totalstatistics` of the NG `statistics` reply. */
export interface TotalStatistics {
  timeoutsessions: number;
  silenttimeoutsessions: number;
  offertimeoutsessions: number;
  finaltimeoutsessions: number;
  regularterminatedsessions: number;
  closedsessions: number;
  relayedpackets: number;
  relayedbytes: number;
  relayedpacketerrors: number;
}

export async function totalStatistics(relay: Relay): Promise<TotalStatistics> {
  const r = await relay.ng.ok({ command: 'statistics' });
  return (r['statistics'] as { totalstatistics: TotalStatistics }).totalstatistics;
}

/** The value of one ` %-48s:%s` line of `list totals`, e.g. 'Total relayed packets'. */
export async function listTotalsValue(relay: Relay, label: string): Promise<number> {
  const text = await relay.cli('list totals');
  const line = text.split('\n').find((l) => l.startsWith(` ${label.padEnd(48)}:`));
  if (!line) throw new Error(`no '${label}' in list totals:\n${text}`);
  return Number(line.slice(line.indexOf(':') + 1));
}
