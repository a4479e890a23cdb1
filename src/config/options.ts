import { availableParallelism, hostname } from 'node:os';
import yargs from 'yargs';
import type { Config } from './Config.js';
import type { CertKeyType, CertSignature } from '../media/transforms/SelfSignedCertificate.js';
import { readKeyFile, splitList, KeyFileError } from './KeyFile.js';
import { networkInterfaces } from 'node:os';
import { resolveInterfaceSpec, type SystemInterfaces } from './InterfaceSpec.js';
import { IGNORED_OPTIONS } from './rtpengineOptions.js';
import { LOG_SUBSYSTEMS } from '../logSubsystems.js';
import { parseListenAddress } from './Endpoint.js';
import { parseRedisSpec } from './RedisSpec.js';

export class ConfigError extends Error {}

type Kind = 'string' | 'int' | 'bool' | 'list';

interface OptionDef {
  kind: Kind;
  alias?: string;
  describe: string;
  default?: string;
}

/** Every option ngrelay knows, with rtpengine's names, short flags and defaults. */
export const OPTIONS: Record<string, OptionDef> = {
  interface: { kind: 'list', alias: 'i', describe: 'Local interface for RTP: [NAME/]IP[!ADVERTISED]' },
  'listen-ng': { kind: 'string', alias: 'n', describe: 'UDP address for the NG protocol, [IP:]PORT', default: '127.0.0.1:22222' },
  'listen-cli': { kind: 'string', alias: 'c', describe: 'TCP address for the CLI, [IP:]PORT', default: '127.0.0.1:9900' },
  'listen-tcp-ng': { kind: 'string', alias: 'N', describe: 'TCP address for the NG protocol (bencode), [IP:]PORT; off when not given' },
  'listen-http': { kind: 'string', describe: 'TCP address for HTTP (Prometheus /metrics), [IP:]PORT; off when not given' },
  'port-min': { kind: 'int', alias: 'm', describe: 'Lowest port for media', default: '30000' },
  'port-max': { kind: 'int', alias: 'M', describe: 'Highest port for media', default: '40000' },
  timeout: { kind: 'int', alias: 'o', describe: 'Seconds without media before a call is closed', default: '60' },
  'silent-timeout': { kind: 'int', alias: 's', describe: 'Timeout for held or inactive media', default: '3600' },
  'offer-timeout': { kind: 'int', describe: 'Timeout for calls that were never answered', default: '3600' },
  'final-timeout': { kind: 'int', alias: 'a', describe: 'Seconds after which any call is closed (0 = off)', default: '0' },
  'delete-delay': { kind: 'int', alias: 'd', describe: 'Seconds between delete and freeing the call', default: '30' },
  'max-sessions': { kind: 'int', describe: 'Limit of concurrent own sessions (-1 = none)', default: '-1' },
  'silence-detect': { kind: 'string', describe: 'Level in percent of full scale at or under which converted audio is sent as CN, towards a party given CN by transcoding from one without (0 = off)', default: '0' },
  'max-transcoded-media': { kind: 'int', describe: 'Limit of concurrently converted streams, one per direction of an m= line (-1 = none)', default: '-1' },
  'dtmf-log-dest': { kind: 'string', describe: 'IP:PORT a JSON report of each DTMF digit is sent to over UDP; off when not given' },
  foreground: { kind: 'bool', alias: 'f', describe: 'Stay in the foreground', default: 'false' },
  pidfile: { kind: 'string', alias: 'p', describe: 'Write the PID to this file' },
  'log-level': { kind: 'int', alias: 'L', describe: 'Syslog-style level 0-7', default: '6' },
  'log-stderr': { kind: 'bool', alias: 'E', describe: 'Log to stderr', default: 'false' },
  'log-facility': { kind: 'string', describe: 'Syslog facility (ngrelay logs to stdout/stderr; see docs/operations.md)', default: 'daemon' },
  'log-format': { kind: 'string', describe: 'default (rtpengine-like text lines), parsable (the same) or json', default: 'default' },
  'no-log-timestamps': { kind: 'bool', describe: 'Drop timestamps from log lines', default: 'false' },
  ...Object.fromEntries(LOG_SUBSYSTEMS.map(([name, what]) => [`log-level-${name}`, { kind: 'int', describe: `Log level for: ${what}` } as OptionDef])),
  redis: { kind: 'string', alias: 'r', describe: 'Redis for persistence: [PW@]HOST:PORT/DB' },
  'redis-write': { kind: 'string', alias: 'w', describe: 'Redis for writes: [PW@]HOST:PORT/DB' },
  'subscribe-keyspace': { kind: 'list', alias: 'k', describe: 'Redis DB numbers to subscribe to' },
  'redis-expires': { kind: 'int', describe: 'TTL of call records in seconds', default: '86400' },
  'redis-connect-timeout': { kind: 'int', describe: 'Redis connect timeout in ms', default: '1000' },
  'redis-cmd-timeout': { kind: 'int', describe: 'Redis command timeout in ms (0 = 2000)', default: '0' },
  'no-redis-required': { kind: 'bool', alias: 'q', describe: 'Start even when Redis is unreachable', default: 'false' },
  'active-switchover': { kind: 'bool', describe: 'Signalling or media on a foreign call makes it own', default: 'true' },
  'endpoint-learning': { kind: 'string', describe: 'off, immediate, delayed or heuristic', default: 'delayed' },
  'recording-dir': { kind: 'string', describe: 'Directory for call recordings' },
  'recording-method': { kind: 'string', describe: 'pcap or proc', default: 'pcap' },
  'recording-format': { kind: 'string', describe: 'raw or eth', default: 'raw' },
  tos: { kind: 'int', alias: 'T', describe: 'TOS value for media packets' },
  'num-threads': { kind: 'int', describe: 'Media worker threads (default: one per CPU; 0 = media on the control thread)', default: String(availableParallelism()) },
  table: { kind: 'int', alias: 't', describe: 'Kernel fast-path table number 0-255 (-1 = userspace only)', default: '0' },
  'node-id': { kind: 'string', describe: 'Identity of this relay in Redis records' },
  'cluster-mode': { kind: 'string', describe: 'static (one Redis DB per relay) or shared (one keyspace, any node answers)', default: 'static' },
  'advertise-ng': { kind: 'string', describe: 'Shared mode: NG address other nodes forward to, IP:PORT (default: listen-ng)' },
  'heartbeat-interval': { kind: 'int', describe: 'Shared mode: ms between heartbeats; a node is dead after 3 missed', default: '1000' },
  'drain-timeout': { kind: 'int', describe: 'Shared mode: seconds a drained node waits for its calls before it exits (0 = no limit)', default: '0' },
  drain: { kind: 'bool', describe: 'Shared mode: yes drains this node (no new calls, exit after the last); a change applies on SIGHUP', default: 'false' },
  'redis-engine': { kind: 'string', describe: 'Shared mode store: redis, sentinel or cluster', default: 'redis' },
  'redis-nodes': { kind: 'list', describe: 'More sentinels or cluster nodes besides the one in `redis`: HOST:PORT' },
  'redis-master-name': { kind: 'string', describe: 'Sentinel engine: the monitored master name', default: 'mymaster' },
  'dtls-cert-cipher': { kind: 'string', describe: 'Key of the DTLS certificate: prime256v1 (ECDSA) or RSA', default: 'prime256v1' },
  'dtls-rsa-key-size': { kind: 'int', describe: 'Bits of the DTLS certificate\'s RSA key', default: '2048' },
  'dtls-signature': { kind: 'string', describe: 'Hash the DTLS certificate is signed with: SHA-256 or SHA-1', default: 'SHA-256' },
};

export interface LoadResult {
  config: Config;
  warnings: string[];
  /** Start-up notes that are not problems (kernel forwarding not available ...). */
  notes: string[];
  configFile: string | null;
  /** `--version` / `-v` or `--help` / `-h`: print and exit. */
  exit?: 'version' | 'help';
}

/** The host's interfaces and addresses, for `interface = eth0` and `interface = any`. */
export function systemInterfaces(): SystemInterfaces {
  const out: SystemInterfaces = new Map();
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    out.set(name, (addrs ?? []).map((a) => ({ address: a.address, family: a.family === 'IPv4' ? 4 : 6, internal: a.internal })));
  }
  return out;
}

function percent(key: string, v: string): number {
  const n = Number(v.trim());
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) throw new ConfigError(`Invalid value for '${key}': '${v}' is not a percentage 0..100`);
  return n;
}

function intValue(key: string, v: string, min: number, max: number): number {
  const s = v.trim();
  if (!/^-?\d+$/.test(s)) throw new ConfigError(`Invalid value for '${key}': '${v}' is not an integer`);
  const n = Number(s);
  if (n < min || n > max) throw new ConfigError(`Invalid value for '${key}': '${v}' is out of range ${min}..${max}`);
  return n;
}

function boolValue(key: string, v: string): boolean {
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === '1' || s === 'yes') return true;
  if (s === 'false' || s === '0' || s === 'no') return false;
  throw new ConfigError(`Invalid value for '${key}': '${v}' is not true or false`);
}

/** `dtls-cert-cipher` as rtpengine reads it (case does not matter; `ec-`/`ec_` prefixes allowed). */
function certKeyType(v: string): CertKeyType {
  const s = v.trim().toLowerCase();
  if (s === 'rsa') return 'rsa';
  if (s === 'prime256v1' || s === 'ec_prime256v1' || s === 'ec-prime256v1') return 'prime256v1';
  throw new ConfigError(`Invalid value for 'dtls-cert-cipher': '${v}' (expected prime256v1 or RSA)`);
}

/** `dtls-signature`: SHA-256 or SHA-1, with or without the dash, any case. */
function certSignature(v: string): CertSignature {
  const s = v.trim().toLowerCase().replace('-', '');
  if (s === 'sha256') return 'sha-256';
  if (s === 'sha1') return 'sha-1';
  throw new ConfigError(`Invalid value for 'dtls-signature': '${v}' (expected SHA-256 or SHA-1)`);
}

function oneOf<T extends string>(key: string, v: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new ConfigError(`Invalid value for '${key}': '${v}' (expected one of ${allowed.join(', ')})`);
}

function wrap<T>(key: string, v: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`Invalid value for '${key}': '${v}': ${(e as Error).message}`);
  }
}

/** Parses argv, reads the config file, merges them (the command line wins) and checks every value. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env, system: () => SystemInterfaces = systemInterfaces): LoadResult {
  const warnings: string[] = [];
  const notes: string[] = [];
  const ignored = new Set<string>();
  let y = yargs(argv)
    .scriptName('ngrelay')
    .usage('$0 [options]')
    .option('config-file', { type: 'string', describe: 'Config file, or "none"', default: '/etc/rtpengine/rtpengine.conf' })
    .option('config-section', { type: 'string', describe: 'Section of the config file', default: 'rtpengine' })
    .strictOptions()
    .version(false)
    .option('version', { type: 'boolean', alias: 'v', describe: 'Print the version and exit' })
    .help('help')
    .alias('help', 'h')
    .parserConfiguration({ 'camel-case-expansion': false, 'boolean-negation': false })
    .exitProcess(false)
    .fail((msg, err) => {
      throw new ConfigError(msg ?? err?.message ?? 'invalid command line');
    });
  for (const [name, def] of Object.entries(OPTIONS)) {
    y = y.option(name, {
      type: def.kind === 'bool' ? 'boolean' : 'string',
      array: def.kind === 'list' ? true : undefined,
      alias: def.alias,
      describe: def.describe,
      // Shown by --help only: a yargs default would hide the config file's value.
      ...(def.default === undefined ? {} : { defaultDescription: def.default }),
    });
  }
  for (const [name, def] of IGNORED_OPTIONS) {
    y = y.option(name, {
      type: def.kind === 'bool' ? 'boolean' : 'string',
      array: def.kind === 'list' ? true : undefined,
      alias: def.alias,
      describe: 'rtpengine option: accepted, not implemented (ignored)',
      hidden: true,
    });
  }
  const args = y.parseSync() as Record<string, unknown>;
  if (args['help']) return { config: null as unknown as Config, warnings, notes, configFile: null, exit: 'help' };
  if (args['version']) return { config: null as unknown as Config, warnings, notes, configFile: null, exit: 'version' };
  for (const name of IGNORED_OPTIONS.keys()) if (args[name] !== undefined) ignored.add(name);

  const raw = new Map<string, string | string[]>();
  // Given twice, the last one wins (GLib).
  const cf = args['config-file'];
  const configFile = String(Array.isArray(cf) ? cf[cf.length - 1] : cf);
  const cs = args['config-section'];
  const configSection = String(Array.isArray(cs) ? cs[cs.length - 1] : cs);
  let usedFile: string | null = null;
  if (configFile !== 'none') {
    let kf;
    try {
      kf = readKeyFile(configFile, argv.some((a) => a.startsWith('--config-file') && !/^--config-file=?none$/.test(a)));
    } catch (e) {
      if (e instanceof KeyFileError) throw new ConfigError(e.message);
      throw e;
    }
    if (kf !== null) {
      usedFile = configFile;
      const section = kf.get(configSection);
      for (const [key, value] of section ?? []) {
        // hasOwn: a key named `constructor` or `toString` is unknown, not a built-in.
        const def = Object.hasOwn(OPTIONS, key) ? OPTIONS[key] : undefined;
        if (!def && IGNORED_OPTIONS.has(key)) {
          ignored.add(key);
          continue;
        }
        if (!def) {
          warnings.push(`Unknown key '${key}' in config file ${configFile} ignored`);
          continue;
        }
        raw.set(key, def.kind === 'list' ? splitList(value) : value);
      }
    }
  }
  for (const [name, def] of Object.entries(OPTIONS)) {
    const given = args[name];
    if (given === undefined) continue;
    // A repeated single-value option: the last one wins, as with GLib.
    const v: unknown = def.kind !== 'list' && Array.isArray(given) ? given[given.length - 1] : given;
    if (def.kind === 'list') raw.set(name, (v as unknown[]).flatMap((x) => String(x).split(';')).filter((s) => s !== ''));
    else if (def.kind === 'bool') raw.set(name, v ? 'true' : 'false');
    else raw.set(name, String(v));
  }

  const str = (k: string): string | undefined => {
    const v = raw.get(k) ?? OPTIONS[k]!.default;
    return v === undefined ? undefined : String(v);
  };
  const list = (k: string): string[] => (raw.get(k) as string[] | undefined) ?? [];
  const int = (k: string, min: number, max: number): number => intValue(k, str(k)!, min, max);
  const optInt = (k: string, min: number, max: number): number | undefined =>
    str(k) === undefined ? undefined : intValue(k, str(k)!, min, max);
  const bool = (k: string): boolean => boolValue(k, str(k)!);

  let nics: SystemInterfaces | null = null;
  const interfaces = list('interface').flatMap((s) => wrap('interface', s, () => resolveInterfaceSpec(s, (nics ??= system()))));
  if (interfaces.length === 0) throw new ConfigError("Missing option 'interface': at least one interface must be given");
  const portMin = int('port-min', 1024, 65535);
  const portMax = int('port-max', 1024, 65535);
  if (portMax <= portMin) throw new ConfigError(`Invalid value for 'port-max': '${portMax}' must be above port-min ${portMin}`);
  const listenNg = wrap('listen-ng', str('listen-ng')!, () => parseListenAddress(str('listen-ng')!, '127.0.0.1'));
  const listenCli = wrap('listen-cli', str('listen-cli')!, () => parseListenAddress(str('listen-cli')!, '127.0.0.1'));
  const listenTcpNgRaw = str('listen-tcp-ng');
  const listenTcpNg = listenTcpNgRaw === undefined ? undefined
    : wrap('listen-tcp-ng', listenTcpNgRaw, () => parseListenAddress(listenTcpNgRaw, '127.0.0.1'));
  const dtmfLogRaw = str('dtmf-log-dest');
  const dtmfLogDest = dtmfLogRaw === undefined ? undefined : wrap('dtmf-log-dest', dtmfLogRaw, () => parseListenAddress(dtmfLogRaw, ''));
  const listenHttpRaw = str('listen-http');
  const listenHttp = listenHttpRaw === undefined ? undefined
    : wrap('listen-http', listenHttpRaw, () => parseListenAddress(listenHttpRaw, '127.0.0.1'));
  const redisRaw = str('redis');
  const redis = redisRaw === undefined ? undefined : wrap('redis', redisRaw, () => parseRedisSpec(redisRaw, env['RTPENGINE_REDIS_AUTH_PW']));
  const redisWriteRaw = str('redis-write');
  const redisWrite = redisWriteRaw === undefined ? undefined
    : wrap('redis-write', redisWriteRaw, () => parseRedisSpec(redisWriteRaw, env['RTPENGINE_REDIS_WRITE_AUTH_PW']));
  const clusterMode = oneOf('cluster-mode', str('cluster-mode')!, ['static', 'shared'] as const);
  const redisEngine = oneOf('redis-engine', str('redis-engine')!, ['redis', 'sentinel', 'cluster'] as const);
  const redisNodes = list('redis-nodes').map((v) => wrap('redis-nodes', v, () => parseListenAddress(v, '127.0.0.1')));
  const advertiseRaw = str('advertise-ng');
  const advertiseNg = advertiseRaw === undefined ? listenNg : wrap('advertise-ng', advertiseRaw, () => parseListenAddress(advertiseRaw, listenNg.host));
  const dtlsCertificate: Config['dtlsCertificate'] = {
    keyType: certKeyType(str('dtls-cert-cipher')!),
    rsaBits: int('dtls-rsa-key-size', 1024, 16384),
    signature: certSignature(str('dtls-signature')!),
  };
  const subscribeKeyspace = list('subscribe-keyspace').map((s) => intValue('subscribe-keyspace', s, 0, 65535));

  const config: Config = {
    interfaces,
    listenNg,
    listenCli,
    listenHttp,
    listenTcpNg,
    portMin,
    portMax,
    timeout: int('timeout', 0, 1e9),
    silentTimeout: int('silent-timeout', 0, 1e9),
    offerTimeout: int('offer-timeout', 0, 1e9),
    finalTimeout: int('final-timeout', 0, 1e9),
    deleteDelay: int('delete-delay', 0, 1e9),
    maxSessions: int('max-sessions', -1, 1e9),
    maxTranscodedMedia: int('max-transcoded-media', -1, 1e9),
    silenceDetect: percent('silence-detect', str('silence-detect')!),
    dtmfLogDest,
    foreground: bool('foreground'),
    pidfile: str('pidfile'),
    logLevel: int('log-level', 0, 7),
    logStderr: bool('log-stderr'),
    logFormat: oneOf('log-format', str('log-format')!, ['default', 'parsable', 'json'] as const),
    logTimestamps: !bool('no-log-timestamps'),
    logFacility: str('log-facility')!,
    subsystemLevels: new Map(
      LOG_SUBSYSTEMS.flatMap(([name]) => (str(`log-level-${name}`) === undefined ? [] : [[name, intValue(`log-level-${name}`, str(`log-level-${name}`)!, -1, 7)] as const])),
    ),
    redis,
    redisWrite,
    subscribeKeyspace,
    redisExpires: int('redis-expires', 0, 1e9),
    redisConnectTimeout: int('redis-connect-timeout', 1, 1e7),
    redisCmdTimeout: int('redis-cmd-timeout', 0, 1e7),
    noRedisRequired: bool('no-redis-required'),
    activeSwitchover: bool('active-switchover'),
    endpointLearning: oneOf('endpoint-learning', str('endpoint-learning')!, ['off', 'immediate', 'delayed', 'heuristic'] as const),
    recordingDir: str('recording-dir'),
    recordingMethod: oneOf('recording-method', str('recording-method')!, ['pcap', 'proc'] as const),
    recordingFormat: oneOf('recording-format', str('recording-format')!, ['raw', 'eth'] as const),
    tos: optInt('tos', 0, 255),
    numThreads: int('num-threads', 0, 64),
    table: int('table', -1, 255),
    nodeId: str('node-id') ?? (clusterMode === 'shared' ? `${hostname()}-${interfaces[0]!.address}` : `${hostname()}:${listenNg.port}`),
    clusterMode,
    advertiseNg,
    heartbeatInterval: int('heartbeat-interval', 100, 60_000),
    drainTimeout: int('drain-timeout', 0, 1e9),
    drain: bool('drain'),
    redisEngine,
    redisNodes,
    redisMasterName: str('redis-master-name')!,
    dtlsCertificate,
  };
  if (clusterMode === 'shared') {
    if (!redis) throw new ConfigError("Invalid value for 'cluster-mode': shared needs the 'redis' option");
    if (subscribeKeyspace.length > 0) throw new ConfigError("Invalid value for 'subscribe-keyspace': not used with cluster-mode=shared (all nodes share one keyspace)");
    if (redisWrite) throw new ConfigError("Invalid value for 'redis-write': not used with cluster-mode=shared");
    if (redisEngine === 'cluster' && redis.db !== 0) throw new ConfigError("Invalid value for 'redis': Redis Cluster has only DB 0");
    if (advertiseNg.host === '0.0.0.0' || advertiseNg.host === '::') {
      throw new ConfigError("Invalid value for 'advertise-ng': other nodes need a routable NG address, not a wildcard (set advertise-ng)");
    }
  } else if (redisEngine !== 'redis') {
    throw new ConfigError("Invalid value for 'redis-engine': sentinel and cluster need cluster-mode=shared");
  } else if (config.drain) {
    throw new ConfigError("Invalid value for 'drain': draining needs cluster-mode=shared");
  }
  if (ignored.size > 0) {
    warnings.push(`rtpengine options accepted but not implemented by ngrelay, ignored: ${[...ignored].join(', ')}`);
  }
  if (subscribeKeyspace.length > 0 && !redis) {
    throw new ConfigError("Invalid value for 'subscribe-keyspace': it needs the 'redis' option");
  }
  return { config, warnings, notes, configFile: usedFile };
}
