import type { ReportDict as NgDict } from './ReportDict.js';

/**
 * NG requests counted per proxy (source IP) and command, under rtpengine's short names:
 * the `controlstatistics` of `statistics` and the "Control statistics" table of `list totals`.
 */
export const CONTROL_COMMANDS: readonly (readonly [command: string, short: string])[] = [
  ['ping', 'Ping'], ['offer', 'Offer'], ['answer', 'Answer'], ['delete', 'Delete'], ['query', 'Query'], ['list', 'List'],
  ['start recording', 'StartRec'], ['stop recording', 'StopRec'], ['start forwarding', 'StartFwd'], ['stop forwarding', 'StopFwd'],
  ['block DTMF', 'BlkDTMF'], ['unblock DTMF', 'UnblkDTMF'], ['block media', 'BlkMedia'], ['unblock media', 'UnblkMedia'],
  ['play media', 'PlayMedia'], ['stop media', 'StopMedia'], ['play DTMF', 'PlayDTMF'], ['statistics', 'Stats'],
  ['silence media', 'SlnMedia'], ['unsilence media', 'UnslnMedia'], ['publish', 'Pub'], ['subscribe request', 'SubReq'],
  ['subscribe answer', 'SubAns'], ['unsubscribe', 'Unsub'],
];
const SHORT = new Map(CONTROL_COMMANDS);

export interface ProxyCounters {
  /** By short name: requests and the seconds spent on them. */
  readonly commands: Map<string, { count: number; seconds: number }>;
  errors: number;
}

export class ControlStatistics {
  /** By proxy IP, in order of first contact. */
  readonly proxies = new Map<string, ProxyCounters>();

  count(proxy: string, command: string | undefined, ok: boolean, seconds: number): void {
    let p = this.proxies.get(proxy);
    if (!p) {
      p = { commands: new Map(), errors: 0 };
      this.proxies.set(proxy, p);
    }
    if (!ok) p.errors++;
    const short = command === undefined ? undefined : SHORT.get(command);
    if (!short) return;
    const c = p.commands.get(short) ?? { count: 0, seconds: 0 };
    c.count++;
    c.seconds += seconds;
    p.commands.set(short, c);
  }

  /** rtpengine's `controlstatistics` dict (durations as strings with 6 decimals, as it sends them). */
  report(): NgDict {
    const totals = new Map<string, number>();
    const proxies = [...this.proxies].map(([proxy, p]) => {
      const r: Record<string, string | number> = { proxy };
      for (const [, short] of CONTROL_COMMANDS) {
        const c = p.commands.get(short);
        const key = short.toLowerCase();
        r[`${key}count`] = c?.count ?? 0;
        r[`${key}duration`] = (c?.seconds ?? 0).toFixed(6);
        totals.set(key, (totals.get(key) ?? 0) + (c?.count ?? 0));
      }
      r['errorcount'] = p.errors;
      return r;
    });
    const out: NgDict = { proxies };
    for (const [, short] of CONTROL_COMMANDS) out[`total${short.toLowerCase()}count`] = totals.get(short.toLowerCase()) ?? 0;
    return out;
  }

  /** The table `list totals` ends with. */
  table(): string {
    const row = (first: string, cells: string[]): string => `${first.padStart(21)} ${cells.map((c) => `| ${c.padStart(10)} `).join('')}\n`;
    let out = row('Proxy', CONTROL_COMMANDS.map(([, short]) => short));
    for (const [proxy, p] of this.proxies) out += row(proxy, CONTROL_COMMANDS.map(([, short]) => String(p.commands.get(short)?.count ?? 0)));
    return out;
  }
}
