import type { Call } from '../call/Call.js';
import { statisticsReport } from '../call/StatisticsReport.js';
import { mediaCounters } from '../media/MediaCounters.js';
import { setLogLevel } from '../log.js';
import type { Limits, Services } from '../Services.js';
import type { ClusterControl } from './ClusterControl.js';
import type { SharedControl } from '../cluster/SharedCluster.js';
import { sessionDetail, sessionLine } from './sessionsText.js';

export interface CliContext {
  services: Services;
  cluster: ClusterControl | null;
  /** `cluster-mode = shared` only. */
  shared?: SharedControl | null;
}

const MORE = 'More parameters required.\n';
/** rtpengine names what is left of the line after the words it understood (the double colon is its own). */
const unknown = (rest: string[]): string => `Unknown or incomplete command::${rest.join(' ')}\n`;

function numSessions(s: Services): string {
  const { own, foreign } = s.registry.count();
  let v4 = 0;
  let v6 = 0;
  let mixed = 0;
  for (const c of s.registry.all()) {
    const fams = new Set(c.streams().map((st) => st.local.family));
    if (fams.size > 1) mixed++;
    else if (fams.has(6)) v6++;
    else if (fams.has(4)) v4++;
  }
  return (
    `Current sessions own: ${own}\n` +
    `Current sessions foreign: ${foreign}\n` +
    `Current sessions total: ${own + foreign}\n` +
    `Current transcoded media: 0\n` +
    `Current sessions ipv4 only media: ${v4}\n` +
    `Current sessions ipv6 only media: ${v6}\n` +
    `Current sessions ip mixed  media: ${mixed}\n`
  );
}

/** Maps, not object literals: a call-id such as `constructor` must never find a built-in. */
const SESSION_FILTERS = new Map<string, (c: Call) => boolean>([
  ['all', () => true],
  ['own', (c) => !c.foreign],
  ['foreign', (c) => c.foreign],
]);

const TERMINATE_TEXTS = new Map<string, string>([
  ['all', 'All calls terminated by operator.\n'],
  ['own', 'All own calls terminated by operator.\n'],
  ['foreign', 'All foreign calls terminated by operator.\n'],
]);

function listSessions(s: Services, which: string, withOwner = false): string {
  const filter = SESSION_FILTERS.get(which);
  if (!filter) {
    const call = s.registry.get(which);
    return call ? sessionDetail(call) : `\nCall ID not found (${which}).\n\n`;
  }
  const calls = s.registry.all().filter(filter);
  if (calls.length === 0) {
    return which === 'all' ? 'No sessions on this media relay.\n' : `No ${which} sessions on this media relay.\n`;
  }
  return calls.map((c) => sessionLine(c, withOwner)).join('');
}

/** `list totals`: rtpengine 10.5's lines for what ngrelay measures (no graphite or MOS figures). */
function listTotals(s: Services): string {
  const r = statisticsReport(s.registry);
  const line = (k: string, v: string | number): string => ` ${k.padEnd(48)}:${v}\n`;
  const cur = r.currentstatistics;
  const tot = r.totalstatistics;
  // A media stream counts as kernel-only when every port of it is offloaded, mixed when some are.
  const paths = { user: 0, kernel: 0, mixed: 0 };
  for (const c of s.registry.all()) {
    for (const m of c.medias()) {
      if (!m.rtp) continue;
      const legs = m.streams().filter((st) => st.leg);
      const off = legs.filter((st) => st.leg!.offloaded).length;
      if (off === 0) paths.user++;
      else if (off === legs.length) paths.kernel++;
      else paths.mixed++;
    }
  }
  return (
    '\nStatistics over currently running sessions:\n\n' +
    line('Owned sessions', cur.sessionsown) +
    line('Foreign sessions', cur.sessionsforeign) +
    line('Total sessions', cur.sessionstotal) +
    line('Transcoded media', cur.transcodedmedia) +
    line('Userspace-only media streams', paths.user) +
    line('Kernel-only media streams', paths.kernel) +
    line('Mixed kernel/userspace media streams', paths.mixed) +
    '\nTotal statistics (does not include current running sessions):\n\n' +
    line('Uptime of rtpengine', `${tot.uptime} seconds`) +
    line('Total managed sessions', tot.managedsessions) +
    line('Total rejected sessions', tot.rejectedsessions) +
    line('Total timed-out sessions via TIMEOUT', tot.timeoutsessions) +
    line('Total timed-out sessions via SILENT_TIMEOUT', tot.silenttimeoutsessions) +
    line('Total timed-out sessions via FINAL_TIMEOUT', tot.finaltimeoutsessions) +
    line('Total timed-out sessions via OFFER_TIMEOUT', tot.offertimeoutsessions) +
    line('Total regular terminated sessions', tot.regularterminatedsessions) +
    line('Total forced terminated sessions', tot.forcedterminatedsessions) +
    line('Total relayed packets (userspace)', mediaCounters.packets) +
    line('Total relayed packet errors (userspace)', mediaCounters.errors) +
    line('Total relayed bytes (userspace)', mediaCounters.bytes) +
    line('Total relayed packets (kernel)', mediaCounters.kernelPackets) +
    line('Total relayed packet errors (kernel)', mediaCounters.kernelErrors) +
    line('Total relayed bytes (kernel)', mediaCounters.kernelBytes) +
    line('Total relayed packets', tot.relayedpackets) +
    line('Total relayed packet errors', tot.relayedpacketerrors) +
    line('Total relayed bytes', tot.relayedbytes) +
    line('Total calls duration', `${tot.totalcallsduration} seconds`) +
    line('Average call duration', tot.avgcallduration) +
    '\n\nControl statistics:\n\n' +
    s.registry.stats.control.table()
  );
}

function listInterfaces(s: Services): string {
  return s.interfaces.all
    .map((a) => {
      const pool = a.pool;
      const pct = ((pool.inUse / pool.size) * 100).toFixed(1);
      return (
        `Interface '${a.name}' address '${a.address}' (IPv${a.family})\n` +
        ` Port range: ${pool.min} - ${pool.max}\n` +
        ` Ports used: ${String(pool.inUse).padStart(5)} / ${String(pool.size).padStart(5)} (${pct.padStart(5)}%)\n` +
        ` Last port used: ${pool.lastPort}\n`
      );
    })
    .join('');
}

const TIMEOUT_KEYS = new Map<string, [keyof Limits, string]>([
  ['timeout', ['timeout', 'TIMEOUT']],
  ['silenttimeout', ['silentTimeout', 'SILENT_TIMEOUT']],
  ['offertimeout', ['offerTimeout', 'OFFER_TIMEOUT']],
  ['finaltimeout', ['finalTimeout', 'FINAL_TIMEOUT']],
]);

function list(ctx: CliContext, args: string[]): string {
  const s = ctx.services;
  const [what] = args;
  const arg = args.slice(1).join(' ');
  switch (what) {
    case 'numsessions':
      return numSessions(s);
    case 'sessions':
      return arg ? listSessions(s, arg, !!ctx.shared) : MORE;
    case 'nodes':
      return ctx.shared ? ctx.shared.listNodes() : 'This media relay is not in a shared cluster (cluster-mode = shared).\n';
    case 'totals':
      return listTotals(s);
    case 'jsonstats':
      return JSON.stringify(statisticsReport(s.registry)) + '\n';
    case 'interfaces':
      return listInterfaces(s);
    case 'maxsessions':
      return `Maximum sessions configured on rtpengine: ${s.limits.maxSessions}\n`;
    case 'deletedelay':
      return `${s.limits.deleteDelay}\n`;
    default: {
      const t = what ? TIMEOUT_KEYS.get(what) : undefined;
      if (t) return `${t[1]}=${s.limits[t[0]]}\n`;
      return what ? unknown(args) : MORE;
    }
  }
}

function set(ctx: CliContext, args: string[]): string {
  const s = ctx.services;
  const [what, value] = args;
  if (!what) return MORE;
  const t = TIMEOUT_KEYS.get(what);
  if (!t && !['maxsessions', 'deletedelay', 'loglevel'].includes(what)) return unknown(args);
  if (value === undefined) return MORE;
  const isInt = /^-?\d+$/.test(value);
  const n = Number(value);
  switch (what) {
    case 'maxsessions':
      if (!isInt) return `Fail setting maxsessions to ${value}; no digists found\n`;
      if (n < -1) return `Fail setting maxsessions to ${value}; either positive or -1 values allowed\n`;
      s.limits.maxSessions = n;
      return n === -1 ? `Success setting maxsessions to ${n}; disable feature\n` : `Success setting maxsessions to ${n}\n`;
    case 'deletedelay':
      if (!isInt || n < 0) return 'Invalid delete-delay value\n';
      s.limits.deleteDelay = n;
      return `Success setting delete-delay to ${n}\n`;
    case 'loglevel':
      if (!isInt || n < 0 || n > 7) return `Invalid log level '${value}'\n`;
      setLogLevel(n);
      return `Success setting loglevel to ${n}\n`;
    default:
      // rtpengine's own wording, typo and errno included.
      if (!isInt) return `Fail setting timeout to ${value}; no digists found\n`;
      if (n < 0) return `Fail setting timeout to ${value}; errno=0\n`;
      s.limits[t![0]] = n;
      return `Success setting timeout to ${n}\n`;
  }
}

function terminate(ctx: CliContext, args: string[]): string {
  const s = ctx.services;
  const which = args.join(' ');
  if (!which) return MORE;
  const filter = SESSION_FILTERS.get(which);
  if (filter) {
    for (const c of s.registry.all().filter(filter)) s.registry.destroy(c, 'terminated');
    return TERMINATE_TEXTS.get(which)!;
  }
  const call = s.registry.get(which);
  if (!call) return `\nCall Id not found (${which}).\n\n`;
  s.registry.destroy(call, 'terminated');
  return `\nCall Id (${which}) successfully terminated by operator.\n\n`;
}

async function keyspace(ctx: CliContext, cmd: string, args: string[]): Promise<string> {
  const cluster = ctx.cluster;
  if (cmd === 'kslist') {
    return '\nSubscribed-on keyspaces:\n' + (cluster?.kslist() ?? []).map((n) => `${n} `).join('') + '\n';
  }
  const [arg] = args;
  if (arg === undefined) return MORE;
  if (!/^\d+$/.test(arg)) return `Invalid keyspace '${arg}'.\n`;
  if (!cluster) return 'Redis is not configured on this media relay.\n';
  const db = Number(arg);
  if (cmd === 'ksadd') {
    return (await cluster.ksadd(db))
      ? `Success adding keyspace ${db} to redis notifications.\n`
      : `Keyspace ${db} is already among redis notifications.\n`;
  }
  return (await cluster.ksrm(db))
    ? `Successfully unsubscribed from keyspace ${db}.\nSuccessfully removed all foreign calls for keyspace ${db}.\n`
    : `Keyspace ${db} is not among redis notifications.\n`;
}

/** Runs one CLI line and returns rtpengine 10.5's text for it. */
export async function runCliLine(ctx: CliContext, line: string): Promise<string> {
  const words = line.trim().split(/\s+/).filter((w) => w !== '');
  const [cmd, ...args] = words;
  switch (cmd) {
    case undefined:
      return MORE;
    case 'list':
    case 'get':
      return list(ctx, args);
    case 'set':
      return set(ctx, args);
    case 'terminate':
      return terminate(ctx, args);
    case 'ksadd':
    case 'ksrm':
    case 'kslist':
      return keyspace(ctx, cmd, args);
    case 'active':
    case 'standby':
      if (!ctx.cluster) return 'Redis is not configured on this media relay.\n';
      ctx.cluster.setActive(cmd === 'active');
      return cmd === 'active' ? "Ok, all calls set to 'owned (active)'\n" : "Ok, all calls set to 'foreign (standby)'\n";
    case 'drain':
    case 'undrain':
      if (!ctx.shared) return 'This media relay is not in a shared cluster (cluster-mode = shared).\n';
      return cmd === 'drain' ? ctx.shared.drain() : ctx.shared.undrain();
    default:
      return unknown(words);
  }
}
