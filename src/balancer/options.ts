import yargs from 'yargs';
import { parseListenAddress, type ListenAddress } from '../config/Endpoint.js';
import { KeyFileError, readKeyFile } from '../config/KeyFile.js';
import { parseRedisSpec } from '../config/RedisSpec.js';
import type { BalancerConfig, ClusterSpec } from './BalancerConfig.js';
import { MemberSpecError, parseMemberSpec, type MemberSpec } from './MemberSpec.js';

export class BalancerConfigError extends Error {}

export const DEFAULT_CONFIG_FILE = '/etc/ngrelay/ngrelay-balancer.conf';
/** The section of global settings; each cluster is a section `[cluster NAME]`. */
const GLOBAL = 'balancer';
const CLUSTER_PREFIX = 'cluster ';
const CLUSTER_NAME = /^[A-Za-z0-9_.:#-]{1,64}$/;

/** One option of the balancer: its name on the command line (and in `[balancer]` when `global`). */
export interface BalancerOption {
  name: string;
  kind: 'string' | 'int' | 'bool' | 'list';
  alias?: string;
  default?: string;
  /** Also a key of the config file's `[balancer]` section. */
  global: boolean;
  describe: string;
}

/** Every option the balancer takes; the parser, `--help` and the man page read this one table. */
export const BALANCER_OPTIONS: readonly BalancerOption[] = [
  { name: 'config-file', kind: 'string', default: DEFAULT_CONFIG_FILE, global: false, describe: 'Config file, or "none"' },
  { name: 'cluster-name', kind: 'string', default: 'default', global: false, describe: 'Name of the cluster given on the command line' },
  { name: 'listen-ng', kind: 'string', global: false, describe: 'UDP address of that cluster for the SIP proxy, [IP:]PORT' },
  { name: 'member', kind: 'list', global: false, describe: 'A member of that cluster: name=..,address=IP:PORT,weight=..,capacity=..[,label=..] (repeat for each)' },
  { name: 'listen-cli', kind: 'string', default: '127.0.0.1:9901', global: true, describe: 'TCP address of the admin CLI' },
  { name: 'listen-http', kind: 'string', global: true, describe: 'TCP address for Prometheus metrics (GET /metrics), [IP:]PORT; off when unset' },
  { name: 'ping-interval', kind: 'int', default: '1', global: true, describe: 'Seconds between pings to each member' },
  { name: 'failures', kind: 'int', default: '3', global: true, describe: 'Missed pings in a row before a member is offline' },
  { name: 'member-timeout', kind: 'int', default: '400', global: true, describe: 'Milliseconds a member has to answer' },
  { name: 'sync-interval', kind: 'int', default: '10', global: true, describe: "Seconds between checks of the members' call lists" },
  { name: 'redis', kind: 'string', global: true, describe: 'Redis for the shared call map: [PW@]HOST:PORT/DB' },
  { name: 'foreground', kind: 'bool', alias: 'f', default: 'false', global: true, describe: 'Stay in the foreground' },
  { name: 'pidfile', kind: 'string', alias: 'p', global: true, describe: 'Write the PID to this file' },
  { name: 'log-level', kind: 'int', alias: 'L', default: '6', global: true, describe: 'Syslog-style level 0-7' },
  { name: 'log-stderr', kind: 'bool', alias: 'E', default: 'false', global: true, describe: 'Log to stderr' },
];

/** Global keys, their defaults and what they take; the same names on the command line. */
const GLOBAL_KEYS = new Map(BALANCER_OPTIONS.filter((o) => o.global).map((o) => [o.name, o] as const));

function int(key: string, v: string, min: number, max: number): number {
  if (!/^\d{1,9}$/.test(v.trim()) || Number(v) < min || Number(v) > max) {
    throw new BalancerConfigError(`Invalid value for '${key}': '${v}' (an integer ${min}..${max})`);
  }
  return Number(v);
}

function bool(key: string, v: string): boolean {
  const s = v.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(s)) return true;
  if (['false', '0', 'no'].includes(s)) return false;
  throw new BalancerConfigError(`Invalid value for '${key}': '${v}' is not true or false`);
}

function listen(key: string, v: string): ListenAddress {
  try {
    return parseListenAddress(v, '127.0.0.1');
  } catch (e) {
    throw new BalancerConfigError(`Invalid value for '${key}': ${(e as Error).message}`);
  }
}

function member(where: string, text: string, name?: string): MemberSpec {
  try {
    return parseMemberSpec(text, name);
  } catch (e) {
    if (e instanceof MemberSpecError) throw new BalancerConfigError(`Invalid member in ${where}: ${e.message}`);
    throw e;
  }
}

/** Parses argv and the config file (the command line wins) into a checked configuration. */
export function loadBalancerConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): BalancerConfig {
  let y = yargs(argv).scriptName('ngrelay-balancer').usage('$0 [options]');
  for (const o of BALANCER_OPTIONS) {
    y = y.option(o.name, {
      type: o.kind === 'bool' ? 'boolean' : 'string',
      array: o.kind === 'list' ? true : undefined,
      alias: o.alias,
      describe: o.describe,
      // Global keys keep no yargs default (the config file's value must win over it): --help names it.
      ...(o.default === undefined ? {} : o.global ? { defaultDescription: o.default } : { default: o.default }),
    });
  }
  const args = y
    .strictOptions()
    .version(false)
    .help('help')
    .parserConfiguration({ 'camel-case-expansion': false, 'boolean-negation': false })
    .exitProcess(false)
    .fail((msg, err) => {
      throw new BalancerConfigError(msg ?? err?.message ?? 'invalid command line');
    })
    .parseSync() as Record<string, unknown>;
  if (args['help']) process.exit(0);

  const global = new Map<string, string>();
  const clusters: ClusterSpec[] = [];
  const configFile = String(args['config-file']);
  let usedFile: string | null = null;
  if (configFile !== 'none') {
    let kf;
    try {
      kf = readKeyFile(configFile, argv.some((a) => a.startsWith('--config-file')));
    } catch (e) {
      if (e instanceof KeyFileError) throw new BalancerConfigError(e.message);
      throw e;
    }
    if (kf !== null) {
      usedFile = configFile;
      for (const [section, keys] of kf) {
        if (section === GLOBAL) {
          for (const [k, v] of keys) {
            if (!GLOBAL_KEYS.has(k)) throw new BalancerConfigError(`Unknown key '${k}' in [${GLOBAL}] of ${configFile}`);
            global.set(k, v);
          }
        } else if (section.startsWith(CLUSTER_PREFIX)) {
          clusters.push(clusterSection(configFile, section.slice(CLUSTER_PREFIX.length).trim(), keys));
        } else throw new BalancerConfigError(`Unknown section [${section}] in ${configFile}`);
      }
    }
  }
  for (const k of GLOBAL_KEYS.keys()) {
    const v = args[k];
    if (v === undefined) continue;
    global.set(k, typeof v === 'boolean' ? String(v) : String(Array.isArray(v) ? v[v.length - 1] : v));
  }

  // A cluster on the command line: created, or replacing the listen address / members of the file's.
  const cliMembers = (args['member'] as string[] | undefined) ?? [];
  if (args['listen-ng'] !== undefined || cliMembers.length > 0) {
    const name = String(args['cluster-name']);
    if (!CLUSTER_NAME.test(name)) throw new BalancerConfigError(`Invalid cluster name '${name}'`);
    let c = clusters.find((x) => x.name === name);
    if (!c) {
      if (args['listen-ng'] === undefined) throw new BalancerConfigError(`Cluster '${name}' needs --listen-ng`);
      c = { name, listenNg: listen('listen-ng', String(args['listen-ng'])), members: [] };
      clusters.push(c);
    } else if (args['listen-ng'] !== undefined) c.listenNg = listen('listen-ng', String(args['listen-ng']));
    if (cliMembers.length > 0) c.members = cliMembers.map((m) => member('--member', m));
  }
  if (clusters.length === 0) throw new BalancerConfigError('No cluster configured: give --listen-ng and --member, or a config file with [cluster NAME] sections');
  for (const c of clusters) {
    const names = new Set<string>();
    for (const m of c.members) {
      if (names.has(m.name)) throw new BalancerConfigError(`Member '${m.name}' appears twice in cluster '${c.name}'`);
      names.add(m.name);
    }
  }
  const g = (k: string): string | undefined => global.get(k) ?? GLOBAL_KEYS.get(k)!.default;
  const redisRaw = g('redis');
  let redis;
  if (redisRaw !== undefined) {
    try {
      redis = parseRedisSpec(redisRaw, env['RTPENGINE_REDIS_AUTH_PW']);
    } catch (e) {
      throw new BalancerConfigError(`Invalid value for 'redis': ${(e as Error).message}`);
    }
  }
  return {
    clusters,
    listenCli: listen('listen-cli', g('listen-cli')!),
    listenHttp: g('listen-http') === undefined ? null : listen('listen-http', g('listen-http')!),
    pingInterval: int('ping-interval', g('ping-interval')!, 1, 3600),
    failures: int('failures', g('failures')!, 1, 100),
    memberTimeout: int('member-timeout', g('member-timeout')!, 10, 60_000),
    syncInterval: int('sync-interval', g('sync-interval')!, 1, 86_400),
    redis,
    foreground: bool('foreground', g('foreground')!),
    pidfile: g('pidfile'),
    logLevel: int('log-level', g('log-level')!, 0, 7),
    logStderr: bool('log-stderr', g('log-stderr')!),
    configFile: usedFile,
  };
}

function clusterSection(file: string, name: string, keys: Map<string, string>): ClusterSpec {
  if (!CLUSTER_NAME.test(name)) throw new BalancerConfigError(`Invalid cluster name '${name}' in ${file}`);
  let listenNg: ListenAddress | undefined;
  const members: MemberSpec[] = [];
  for (const [k, v] of keys) {
    if (k === 'listen-ng') listenNg = listen(`listen-ng of [cluster ${name}]`, v);
    else if (k.startsWith('member-')) members.push(member(`[cluster ${name}] of ${file}`, v, k.slice('member-'.length)));
    else throw new BalancerConfigError(`Unknown key '${k}' in [cluster ${name}] of ${file}`);
  }
  if (!listenNg) throw new BalancerConfigError(`[cluster ${name}] of ${file} has no listen-ng`);
  return { name, listenNg, members };
}

/** The config file text for the current clusters (what `save` writes); global settings kept as read. */
export function formatClusterSections(clusters: ClusterSpec[], format: (m: MemberSpec) => string): string {
  const out: string[] = [];
  for (const c of clusters) {
    const host = c.listenNg.host.includes(':') ? `[${c.listenNg.host}]` : c.listenNg.host;
    out.push(`[${CLUSTER_PREFIX}${c.name}]`, `listen-ng = ${host}:${c.listenNg.port}`);
    for (const m of c.members) out.push(`member-${m.name} = ${format(m)}`);
    out.push('');
  }
  return out.join('\n');
}

export const GLOBAL_SECTION = GLOBAL;
