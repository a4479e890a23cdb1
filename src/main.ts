import { keepBuiltinPrototypesFast } from './fastBuiltins.js';
import { removePidfile, writePidfile } from './pidfile.js';
import { installCrashPolicy } from './crashPolicy.js';
import { CallRegistry } from './call/CallRegistry.js';
import { Lifecycle } from './call/Lifecycle.js';
import { runCliLine } from './cli/CliCommands.js';
import { CliServer } from './cli/CliServer.js';
import { currentParams } from './cli/paramsText.js';
import type { ClusterControl } from './store/ClusterControl.js';
import type { Config } from './config/Config.js';
import { ConfigError, loadConfig } from './config/options.js';
import { coreLevel, flushLogs, initLogging, isJournal, moduleLogger, setLogLevel, setSubsystemLevel } from './log.js';
import { versionText } from './version.js';
import { LocalInterfaces } from './media/LocalInterface.js';
import { bindUdp } from './media/userspace/udp.js';
import { SETTLED, type MediaPlane } from './media/MediaPlane.js';
import { UserspacePlane } from './media/userspace/UserspacePlane.js';
import { WorkerPlane } from './media/workers/WorkerPlane.js';
import { createIdentity, DEFAULT_CERTIFICATE, setIdentity } from './media/transforms/DtlsIdentity.js';
import { setDtmfLogDestination } from './media/DtmfReport.js';
import { KernelOffload } from './media/kernel/KernelOffload.js';
import { Metrics } from './metrics/Metrics.js';
import { MetricsServer } from './metrics/MetricsServer.js';
import { dispatch, NG_COMMANDS } from './ng/Dispatcher.js';
import { NgHttp } from './ng/NgHttp.js';
import { NgServer, type NgHandler } from './ng/NgServer.js';
import { NgService } from './ng/NgService.js';
import { NgTcpServer } from './ng/NgTcpServer.js';
import { MediaRates } from './media/MediaRates.js';
import { limitsFrom, type CallHooks, type Services } from './Services.js';
import { RedisRuntime } from './store/wiring.js';
import { Recorder } from './call/Recorder.js';
import { SharedRuntime, type SharedControl } from './cluster/SharedCluster.js';
import { IdleMemory } from './runtime/IdleMemory.js';
import { releaseMemory } from './runtime/memoryRelease.js';

const log = moduleLogger('main');

/** Every interface address must be bindable; the first carries own calls, so it is fatal there. */
async function checkInterfaces(config: Config, interfaces: LocalInterfaces): Promise<void> {
  const first = interfaces.defaultName;
  for (const a of interfaces.all) {
    try {
      const s = await bindUdp(a.address, a.family, 0);
      s.close();
    } catch (e) {
      const msg = `interface '${a.name}' address ${a.address} cannot be bound: ${(e as Error).message}`;
      if (a.name === first) throw new ConfigError(`Invalid value for 'interface': ${msg}`);
      log.warn(
        config.subscribeKeyspace.length > 0
          ? `${msg}; foreign calls on it wait until the address arrives (set net.ipv4.ip_nonlocal_bind=1 to pre-bind)`
          : msg,
      );
    }
  }
}

function logSettings(config: Config) {
  const toStderr = config.logStderr || config.foreground;
  return {
    level: config.logLevel,
    toStderr,
    format: config.logFormat,
    subsystemLevels: config.subsystemLevels,
    timestamps: config.logTimestamps,
    journal: isJournal(toStderr ? 2 : 1, process.env),
  };
}

/**
 * SIGHUP: the config file is read again and what can change at run time is applied (timeouts,
 * delete-delay, max-sessions, max-transcoded-media, log levels, a change of `drain`); addresses, ports, interfaces
 * and Redis need a restart.
 */
function reload(argv: string[], services: Services, shared: SharedControl | null): void {
  let config: Config;
  try {
    const r = loadConfig(argv);
    if (r.exit) return;
    config = r.config;
  } catch (e) {
    log.error(`SIGHUP: config not reloaded, keeping the running settings: ${(e as Error).message}`);
    return;
  }
  const changed: string[] = [];
  const limits = limitsFrom(config);
  for (const k of Object.keys(limits) as (keyof typeof limits)[]) {
    // The load limits are set over the CLI only.
    if (k === 'maxLoad' || k === 'maxCpu' || k === 'maxBandwidth') continue;
    if (services.limits[k] !== limits[k]) {
      changed.push(`${k} ${services.limits[k]} -> ${limits[k]}`);
      services.limits[k] = limits[k];
    }
  }
  if (config.logLevel !== services.config.logLevel) changed.push(`log-level ${services.config.logLevel} -> ${config.logLevel}`);
  setLogLevel(config.logLevel);
  for (const [sub, n] of config.subsystemLevels) setSubsystemLevel(sub, n);
  // Only a change of the key acts: a reload for something else leaves a drain started by the CLI alone.
  if (config.drain !== services.config.drain && shared) {
    changed.push(`drain ${yesNo(services.config.drain)} -> ${yesNo(config.drain)}`);
    if (config.drain) shared.drain();
    else shared.undrain();
  }
  const fixed = (['listenNg', 'listenCli', 'portMin', 'portMax', 'redis', 'subscribeKeyspace', 'clusterMode'] as const)
    .filter((k) => JSON.stringify(config[k]) !== JSON.stringify(services.config[k]));
  if (JSON.stringify(config.interfaces) !== JSON.stringify(services.config.interfaces)) fixed.push('interfaces' as never);
  services.config = { ...services.config, logLevel: config.logLevel, drain: config.drain };
  log.info(`SIGHUP: config reloaded${changed.length ? `: ${changed.join(', ')}` : ', nothing changed'}`);
  if (fixed.length > 0) log.warn(`SIGHUP: changes of ${fixed.join(', ')} take effect after a restart`);
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** Media on `num-threads` worker threads (0: on this thread), with the kernel fast path where it can run. */
async function startMediaPlane(config: Config, interfaces: LocalInterfaces): Promise<MediaPlane> {
  const offload = await startKernelPath(config);
  if (config.numThreads === 0) return new UserspacePlane(offload);
  const plane = await WorkerPlane.start(config.numThreads, offload, interfaces.all);
  log.info({ threads: config.numThreads }, 'media worker threads started');
  return plane;
}

/** The kernel fast path for `table` >= 0, or null (with one warning saying why) when it cannot run here. */
async function startKernelPath(config: Config): Promise<KernelOffload | null> {
  if (config.table < 0) return null;
  try {
    const k = await KernelOffload.start(config.table);
    log.info({ table: config.table }, 'kernel fast path active');
    return k;
  } catch (e) {
    log.warn(`kernel fast path unavailable (table ${config.table}): ${(e as Error).message}; media is relayed in userspace`);
    return null;
  }
}

export async function main(argv: string[]): Promise<void> {
  keepBuiltinPrototypesFast();
  let config: Config;
  let warnings: string[];
  let notes: string[];
  try {
    const r = loadConfig(argv);
    if (r.exit === 'version') {
      process.stdout.write(versionText());
      process.exit(0);
    }
    if (r.exit === 'help') process.exit(0);
    ({ config, warnings, notes } = r);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`ngrelay: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  initLogging(logSettings(config));
  for (const w of warnings) log.warn(w);
  for (const n of notes) log.info(n);
  if (config.tos !== undefined) log.warn("'tos' is accepted but not applied: Node's dgram cannot set IP_TOS");
  if (config.recordingMethod === 'proc') log.warn("recording-method=proc (rtpengine's kernel spool for its recording daemon) is not supported: calls are recorded as pcap files");

  const interfaces = new LocalInterfaces(config.interfaces, config.portMin, config.portMax);
  try {
    await checkInterfaces(config, interfaces);
  } catch (e) {
    process.stderr.write(`ngrelay: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const registry = new CallRegistry();
  // The DTLS certificate exists before the media threads, which get a copy.
  setIdentity(await createIdentity({ ...DEFAULT_CERTIFICATE, ...config.dtlsCertificate }));
  // So is where DTMF reports go: every media thread sends its own.
  setDtmfLogDestination(config.dtmfLogDest ? { address: config.dtmfLogDest.host, port: config.dtmfLogDest.port } : null);
  const media = await startMediaPlane(config, interfaces);
  const limits = limitsFrom(config);
  const rates = new MediaRates();
  // The stores come first: they provide call hooks the services are built with.
  let redis: RedisRuntime | null = null;
  let shared: SharedRuntime | null = null;
  try {
    if (config.clusterMode === 'shared') shared = await SharedRuntime.connect(config, registry);
    else if (config.redis) redis = await RedisRuntime.connect(config, registry, limits);
  } catch (e) {
    process.stderr.write(`ngrelay: ${(e as Error).message}\n`);
    flushLogs();
    process.exit(1);
  }
  const recorder = new Recorder(config);
  const staticStore = redis;
  const store = redis ?? shared;
  const hooks: CallHooks = {
    legObserver: (call) => store?.legObserver(call) ?? null,
    takeOver: (call) => redis?.takeOver(call),
    flushed: (call) => store?.flushed(call) ?? SETTLED,
    tap: (call) => recorder.tap(call),
    startRecording: (call) => recorder.startRecording(call),
    stopRecording: (call) => recorder.stopRecording(call),
    pauseRecording: (call) => recorder.pauseRecording(call),
  };
  const services: Services = { config, interfaces, media, registry, hooks, limits, rates };
  const lifecycle = new Lifecycle(registry, limits, [(now) => rates.sample(now), () => redis?.sweep()]);

  let cluster: ClusterControl | null = null;
  let shutdown: ((signal: string, code?: number) => Promise<void>) | null = null;
  try {
    await shared?.start(services, (req) => dispatch(services, req), (code, why) => void shutdown?.(why, code));
    await redis?.start(services);
    cluster = redis?.cluster ?? null;
  } catch (e) {
    process.stderr.write(`ngrelay: ${(e as Error).message}\n`);
    flushLogs();
    process.exit(1);
  }

  const metrics = config.listenHttp
    ? new Metrics({ calls: registry, interfaces, ngCommands: NG_COMMANDS, store: staticStore ? () => staticStore.figures() : undefined, memoryReleases: () => idleMemory.releases })
    : null;
  const sharedRuntime = shared;
  const handler: NgHandler = sharedRuntime ? (req) => sharedRuntime.handler(req) : (req) => dispatch(services, req);
  const ngService = new NgService(metrics ? metrics.ng.observe(handler) : handler);
  const ng = new NgServer(ngService);
  const ngTcp = config.listenTcpNg ? new NgTcpServer(ngService) : null;
  const idleMemory: IdleMemory = new IdleMemory(
    () => ngService.requests,
    (requests) => {
      const before = process.memoryUsage.rss();
      media.releaseMemory();
      if (!releaseMemory(true)) return;
      const mb = (b: number): number => Math.round(b / 1048576);
      log.info({ requests, rssBeforeMb: mb(before), rssAfterMb: mb(process.memoryUsage.rss()) }, 'signalling quiet: memory released');
    },
  );
  const cliContext = { services, cluster, shared: shared?.control ?? null, start: currentParams(services) };
  const cli = new CliServer((line) => runCliLine(cliContext, line));
  const http = metrics ? new MetricsServer(metrics, new NgHttp(ngService)) : null;
  try {
    await ng.listen(config.listenNg);
    if (ngTcp && config.listenTcpNg) await ngTcp.listen(config.listenTcpNg);
    await cli.listen(config.listenCli);
    if (http && config.listenHttp) await http.listen(config.listenHttp);
  } catch (e) {
    process.stderr.write(`ngrelay: cannot listen: ${(e as Error).message}\n`);
    process.exit(1);
  }
  lifecycle.start();
  idleMemory.start();
  writePidfile(config.pidfile);
  log.info({ interfaces: config.interfaces.map((i) => `${i.name}/${i.address}`), nodeId: config.nodeId }, 'Startup complete');

  process.on('SIGUSR1', () => setLogLevel(Math.max(0, coreLevel() - 1)));
  process.on('SIGUSR2', () => setLogLevel(Math.min(7, coreLevel() + 1)));
  process.on('SIGHUP', () => reload(argv, services, shared?.control ?? null));
  shutdown = async (signal: string, code = 0): Promise<void> => {
    log.info({ signal }, 'Shutting down');
    // Shared mode: leave the directory (calls still held stay as records of a gone node).
    await shared?.close(true);
    lifecycle.stop();
    idleMemory.stop();
    ng.close();
    ngTcp?.close();
    ngService.close();
    cli.close();
    http?.close();
    // Own calls stay in Redis: a restarted relay (or a peer) carries them on.
    await redis?.close();
    for (const c of registry.all()) c.close();
    await media.close();
    removePidfile(config.pidfile);
    flushLogs();
    process.exit(code);
  };
  // A node started with `drain = yes` drains at once: it holds no calls, so it exits.
  if (config.drain) shared?.control.drain();
  process.on('SIGTERM', () => void shutdown?.('SIGTERM'));
  process.on('SIGINT', () => void shutdown?.('SIGINT'));
  installCrashPolicy(registry);
}
