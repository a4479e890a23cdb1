import type { Call } from '../call/Call.js';
import { statisticsReport } from '../call/StatisticsReport.js';
import { terminate as endCall } from '../call/Signalling.js';
import { LOG_SUBSYSTEMS, setLogLevel, setSubsystemLevel, subsystemLevel } from '../log.js';
import { currentParams, paramsDiff, paramsText, type RuntimeParams } from './paramsText.js';
import { openFilesLimit, setOpenFilesLimit } from './openFiles.js';
import type { Limits, Services } from '../Services.js';
import type { ClusterControl } from '../store/ClusterControl.js';
import type { SharedControl } from '../cluster/SharedCluster.js';
import { sessionDetail, sessionLine } from './sessionsText.js';
import { injectWorkerFault, killWorker, listWorkers } from './workersText.js';
import { totalsText } from './totalsText.js';

export interface CliContext {
  services: Services;
  cluster: ClusterControl | null;
  /** `cluster-mode = shared` only. */
  shared?: SharedControl | null;
  /** The run-time settings at start-up, for `params start|diff|revert`. */
  start?: RuntimeParams;
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
    `Current transcoded media: ${s.registry.transcodedMedia()}\n` +
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

function listInterfaces(s: Services): string {
  return s.interfaces.all
    .map((a) => {
      const pool = a.pool;
      const pct = ((pool.inUse / pool.size) * 100).toFixed(1);
      return (
        `Interface '${a.name}' address '${a.address}' (IPv${a.family})\n` +
        ` Port range: ${pool.min} - ${pool.max}\n` +
        ` Ports used: ${String(pool.inUse).padStart(5)} / ${String(pool.size).padStart(5)} (${pct.padStart(5)}%)\n` +
        ` Last port used: ${String(pool.lastAllocated).padStart(5)}\n`
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
      return totalsText(s);
    case 'jsonstats':
      return JSON.stringify(statisticsReport(s.registry)) + '\n';
    case 'interfaces':
      return listInterfaces(s);
    case 'workers':
      return listWorkers(s.media);
    case 'maxsessions':
      return `Maximum sessions configured on rtpengine: ${s.limits.maxSessions}\n`;
    case 'maxopenfiles':
      return `Maximum open-files configured on rtpengine: ${openFilesLimit()}; cat /proc/${process.pid}/limits\n`;
    case 'maxload':
      return `Maximum load average configured on rtpengine: ${s.limits.maxLoad.toFixed(2)}\n`;
    case 'maxcpu':
      return `Maximum CPU usage configured on rtpengine: ${s.limits.maxCpu.toFixed(1)}\n`;
    case 'maxbw':
      return `Maximum bandwidth configured on rtpengine: ${s.limits.maxBandwidth}\n`;
    case 'loglevels':
      return LOG_SUBSYSTEMS.map(([name, what]) => `${name} - ${what}\n`).join('');
    case 'loglevel': {
      if (args[1] === undefined) return LOG_SUBSYSTEMS.map(([name]) => `${name} = ${subsystemLevel(name)}\n`).join('');
      const n = subsystemLevel(args[1]);
      // rtpengine answers an unknown subsystem with nothing at all.
      return n === undefined ? '' : `${n}\n`;
    }
    case 'controltos':
      return '0\n';
    case 'redisallowederrors':
      return '-1\n';
    case 'redisdisabletime':
      return '10\n';
    case 'rediscmdtimeout':
      return `${s.config.redisCmdTimeout}\n`;
    case 'redisconnecttimeout':
      return `${s.config.redisConnectTimeout}\n`;
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
  if (!t && !['maxsessions', 'deletedelay', 'loglevel', 'maxopenfiles', 'maxload', 'maxcpu', 'maxbw'].includes(what)) return unknown(args);
  if (value === undefined) return MORE;
  const isInt = /^-?\d+$/.test(value);
  const n = Number(value);
  const isNum = /^-?\d+(\.\d*)?$/.test(value);
  switch (what) {
    case 'maxopenfiles':
      if (!isInt) return `Fail setting open_files to ${value}; no digists found\n`;
      if (n < 65536) return `Fail setting open_files to ${n}; can't set it under 65536\n`;
      return setOpenFilesLimit(n)
        ? `Success setting open_files to ${n}; cat /proc/${process.pid}/limits\n`
        : `Fail setting open_files to ${n}; errno = 1\n`;
    case 'maxload':
      if (!isNum) return `Fail setting maxload to ${value}; no digists found\n`;
      s.limits.maxLoad = Number(value);
      return `Success setting maxload to ${s.limits.maxLoad.toFixed(2)}\n`;
    case 'maxcpu':
      if (!isNum) return `Fail setting maxcpu to ${value}; no digists found\n`;
      s.limits.maxCpu = Number(value);
      return `Success setting maxcpu to ${s.limits.maxCpu.toFixed(1)}\n`;
    case 'maxbw':
      if (!isInt) return `Fail setting maxbw to ${value}; no digists found\n`;
      s.limits.maxBandwidth = n;
      return `Success setting maxbw to ${n}\n`;
    case 'maxsessions':
      if (!isInt) return `Fail setting maxsessions to ${value}; no digists found\n`;
      if (n < -1) return `Fail setting maxsessions to ${value}; either positive or -1 values allowed\n`;
      s.limits.maxSessions = n;
      return n === -1 ? `Success setting maxsessions to ${n}; disable feature\n` : `Success setting maxsessions to ${n}\n`;
    case 'deletedelay':
      if (!isInt || n < 0) return 'Invalid delete-delay value\n';
      s.limits.deleteDelay = n;
      return `Success setting delete-delay to ${n}\n`;
    case 'loglevel': {
      // `set loglevel N` sets every subsystem, `set loglevel SUB N` one; a word alone wants its number.
      const sub = args.length >= 3 ? value : undefined;
      const level = args.length >= 3 ? args[2]! : value;
      if (!/^-?\d+$/.test(level)) return sub === undefined ? MORE : `Invalid log level '${level}'\n`;
      const v = Number(level);
      // rtpengine takes any number, and an unknown subsystem changes nothing, with the same answer.
      if (sub === undefined) setLogLevel(v);
      else setSubsystemLevel(sub, v);
      return `Success setting loglevel to ${v}\n`;
    }
    default:
      // rtpengine's own wording, typo and errno included.
      if (!isInt) return `Fail setting timeout to ${value}; no digists found\n`;
      if (n < 0) return `Fail setting timeout to ${value}; errno=0\n`;
      s.limits[t![0]] = n;
      return `Success setting timeout to ${n}\n`;
  }
}

/** Ends calls; answers once their media has stopped and their ports are free. */
async function terminate(ctx: CliContext, args: string[]): Promise<string> {
  const s = ctx.services;
  const which = args.join(' ');
  if (!which) return MORE;
  const filter = SESSION_FILTERS.get(which);
  if (filter) {
    // Each call ends in line with whatever else is changing it.
    await Promise.all(s.registry.all().filter(filter).map((c) => endCall(s, c)));
    await s.media.settled();
    return TERMINATE_TEXTS.get(which)!;
  }
  const call = s.registry.get(which);
  if (!call) return `\nCall Id not found (${which}).\n\n`;
  await endCall(s, call);
  await s.media.settled();
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
    // rtpengine's wording for a keyspace it could not add; the reason is Redis's.
    const added = await cluster.ksadd(db).catch((e: Error) => e);
    if (added instanceof Error) return `Fail adding keyspace ${db} to redis notifications; ${added.message}\n`;
    return added ? `Success adding keyspace ${db} to redis notifications.\n` : `Keyspace ${db} is already among redis notifications.\n`;
  }
  return (await cluster.ksrm(db))
    ? `Successfully unsubscribed from keyspace ${db}.\nSuccessfully removed all foreign calls for keyspace ${db}.\n`
    : `Keyspace ${db} is not among redis notifications.\n`;
}

function params(ctx: CliContext, args: string[]): string {
  const [what] = args;
  const start = ctx.start ?? currentParams(ctx.services);
  switch (what) {
    case undefined:
      return MORE;
    case 'current':
      return paramsText(ctx.services, currentParams(ctx.services), 'current');
    case 'start':
      return paramsText(ctx.services, start, 'start');
    case 'diff':
      return paramsDiff(start, currentParams(ctx.services));
    case 'revert':
      for (const [name, n] of start.logLevels) setSubsystemLevel(name, n);
      Object.assign(ctx.services.limits, start.limits);
      return '';
    default:
      return unknown(args);
  }
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
    case 'params':
      return params(ctx, args);
    case 'workers':
      if (args[0] === 'kill') return killWorker(ctx.services.media, args[1]);
      if (args[0] === 'hang' || args[0] === 'reject') return injectWorkerFault(ctx.services.media, args[0], args[1]) ?? unknown(words);
      return unknown(words);
    case 'ksadd':
    case 'ksrm':
    case 'kslist':
      return keyspace(ctx, cmd, args);
    case 'active':
    case 'standby':
      if (!ctx.cluster) return 'Redis is not configured on this media relay.\n';
      await ctx.cluster.setActive(cmd === 'active');
      return cmd === 'active' ? "Ok, all calls set to 'owned (active)'\n" : "Ok, all calls set to 'foreign (standby)'\n";
    case 'drain':
    case 'undrain':
      if (!ctx.shared) return 'This media relay is not in a shared cluster (cluster-mode = shared).\n';
      return cmd === 'drain' ? ctx.shared.drain() : ctx.shared.undrain();
    default:
      return unknown(words);
  }
}
