import type { Limits, Services } from '../Services.js';
import { LOG_SUBSYSTEMS, subsystemLevel } from '../log.js';

/** What `params revert` restores and `params diff` compares: the settings that change at run time. */
export interface RuntimeParams {
  logLevels: Map<string, number>;
  limits: Limits;
}

export function currentParams(s: Services): RuntimeParams {
  return {
    logLevels: new Map(LOG_SUBSYSTEMS.map(([name]) => [name, subsystemLevel(name) ?? s.config.logLevel])),
    limits: { ...s.limits },
  };
}

const addr = (a: { host: string; port: number }): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
const redisText = (r: { host: string; port: number; db: number } | undefined): string => (r ? `${addr(r)}/${r.db}` : ':0/-1');
/** max-cpu and max-load as rtpengine keeps them (hundredths), which `params diff` prints. */
const hundredths = (n: number): number => Math.round(n * 100);

/** `params current` / `params start`: rtpengine 10.5's list, in its order and with its names. */
export function paramsText(s: Services, p: RuntimeParams, which: 'current' | 'start'): string {
  const c = s.config;
  const l = p.limits;
  const out: [string, string | number][] = [];
  for (const [name] of LOG_SUBSYSTEMS) out.push([`log-level-${name}`, p.logLevels.get(name) ?? c.logLevel]);
  out.push(
    ['table', c.table], ['max-sessions', l.maxSessions], ['timeout', l.timeout], ['silent-timeout', l.silentTimeout],
    ['final-timeout', l.finalTimeout], ['offer-timeout', l.offerTimeout], ['delete-delay', l.deleteDelay],
    ['redis-expires', c.redisExpires], ['tos', c.tos ?? 0], ['control-tos', 0], ['graphite-interval', 0],
    ['redis-num-threads', 4], ['homer-protocol', 2], ['homer-id', 2001], ['no-fallback', 0],
    ['port-min', c.portMin], ['port-max', c.portMax],
  );
  if (which === 'current') out.push(['redis-db', c.redis?.db ?? -1], ['redis-write-db', c.redisWrite?.db ?? -1]);
  else out.push(['redis', redisText(c.redis)], ['redis-write', redisText(c.redisWrite)]);
  out.push(
    ['no-redis-required', c.noRedisRequired ? 1 : 0], ['num-threads', c.numThreads], ['xmlrpc-format', 0],
    ['log_format', c.logFormat === 'parsable' ? 1 : 0], ['redis_allowed_errors', -1], ['redis_disable_time', 10],
    ['redis_cmd_timeout', c.redisCmdTimeout], ['redis_connect_timeout', c.redisConnectTimeout],
    ['max-cpu', l.maxCpu.toFixed(1)], ['max-load', l.maxLoad.toFixed(2)], [which === 'current' ? 'max-bw' : 'max-bandwidth', l.maxBandwidth],
  );
  s.interfaces.all.forEach((a, i) => out.push([`interface[${i}]`, `${a.name}\\${a.address} ${a.advertised !== a.address ? a.advertised : ''}`]));
  out.push(
    // Passwords are never printed (rtpengine prints them).
    ['b2b_url', '(null)'], ['redis-auth', c.redis?.password ? '***' : '(null)'], ['redis-write-auth', c.redisWrite?.password ? '***' : '(null)'],
    ['recording-dir', c.recordingDir ?? '(null)'], ['recording-method', c.recordingMethod], ['recording-format', c.recordingFormat],
    ['iptables-chain', '(null)'], ['listen-tcp', ''], ['listen-tcp', ''], ['listen-udp', ''], ['listen-udp', ''],
    ['listen-ng', addr(c.listenNg)], ['listen-ng', ''], ['listen-cli', addr(c.listenCli)], ['listen-cli', ''],
  );
  return out.map(([k, v]) => `${k} = ${v}\n`).join('');
}

/** `params diff`: `name: start => current` for each run-time setting that changed. */
export function paramsDiff(start: RuntimeParams, now: RuntimeParams): string {
  const rows: [string, number, number][] = [];
  for (const [name] of LOG_SUBSYSTEMS) rows.push([`log-level-${name}`, start.logLevels.get(name)!, now.logLevels.get(name)!]);
  const a = start.limits;
  const b = now.limits;
  rows.push(
    ['max-sessions', a.maxSessions, b.maxSessions], ['timeout', a.timeout, b.timeout], ['silent-timeout', a.silentTimeout, b.silentTimeout],
    ['final-timeout', a.finalTimeout, b.finalTimeout], ['offer-timeout', a.offerTimeout, b.offerTimeout], ['delete-delay', a.deleteDelay, b.deleteDelay],
    ['max-cpu', hundredths(a.maxCpu), hundredths(b.maxCpu)], ['max-load', hundredths(a.maxLoad), hundredths(b.maxLoad)],
    ['max-bw', a.maxBandwidth, b.maxBandwidth],
  );
  return rows.filter(([, x, y]) => x !== y).map(([k, x, y]) => `${k}: ${x} => ${y}\n`).join('');
}
