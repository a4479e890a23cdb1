import { writeFileSync, unlinkSync } from 'node:fs';
import { CallRegistry } from './call/CallRegistry.js';
import { Lifecycle } from './call/Lifecycle.js';
import { CliServer } from './cli/CliServer.js';
import type { ClusterControl } from './cli/ClusterControl.js';
import type { Config } from './config/Config.js';
import { ConfigError, loadConfig } from './config/options.js';
import { flushLogs, initLogging, moduleLogger, setLogLevel } from './log.js';
import { LocalInterfaces } from './media/LocalInterface.js';
import { bindUdp } from './media/userspace/udp.js';
import { UserspacePlane } from './media/userspace/UserspacePlane.js';
import { KernelOffload } from './media/kernel/KernelOffload.js';
import { Metrics } from './metrics/Metrics.js';
import { MetricsServer } from './metrics/MetricsServer.js';
import { dispatch, NG_COMMANDS } from './ng/Dispatcher.js';
import { NgServer, type NgHandler } from './ng/NgServer.js';
import { limitsFrom, noHooks, type Services } from './Services.js';
import { startRedis, type RedisRuntime } from './store/wiring.js';
import { recordingHooks } from './media/recording.js';
import { startShared, type SharedRuntime } from './cluster/SharedCluster.js';

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
  let config: Config;
  let warnings: string[];
  try {
    ({ config, warnings } = loadConfig(argv));
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`ngrelay: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  initLogging(config.logLevel, config.logStderr || config.foreground);
  for (const w of warnings) log.warn(w);
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
  const media = new UserspacePlane(await startKernelPath(config));
  const services: Services = { config, interfaces, media, registry, hooks: { ...noHooks }, limits: limitsFrom(config) };
  Object.assign(services.hooks, recordingHooks(services));
  const lifecycle = new Lifecycle(registry, services.limits);

  let redis: RedisRuntime | null = null;
  let cluster: ClusterControl | null = null;
  let shared: SharedRuntime | null = null;
  let shutdown: ((signal: string, code?: number) => Promise<void>) | null = null;
  if (config.clusterMode === 'shared') {
    try {
      shared = await startShared(services, (req) => dispatch(services, req), (code, why) => void shutdown?.(why, code));
    } catch (e) {
      process.stderr.write(`ngrelay: ${(e as Error).message}\n`);
      flushLogs();
      process.exit(1);
    }
  } else if (config.redis) {
    try {
      redis = await startRedis(services, lifecycle);
      cluster = redis.cluster;
    } catch (e) {
      process.stderr.write(`ngrelay: ${(e as Error).message}\n`);
      flushLogs();
      process.exit(1);
    }
  }

  const metrics = config.listenHttp
    ? new Metrics({ calls: registry, interfaces, ngCommands: NG_COMMANDS, store: redis ? redis.figures : undefined })
    : null;
  const sharedRuntime = shared;
  const handler: NgHandler = sharedRuntime ? (req) => sharedRuntime.handler(req) : (req) => dispatch(services, req);
  const ng = new NgServer(metrics ? metrics.ng.observe(handler) : handler);
  const cli = new CliServer({ services, cluster, shared: shared?.control ?? null });
  const http = metrics ? new MetricsServer(metrics) : null;
  try {
    await ng.listen(config.listenNg);
    await cli.listen(config.listenCli);
    if (http && config.listenHttp) await http.listen(config.listenHttp);
  } catch (e) {
    process.stderr.write(`ngrelay: cannot listen: ${(e as Error).message}\n`);
    process.exit(1);
  }
  lifecycle.start();
  if (config.pidfile) writeFileSync(config.pidfile, `${process.pid}\n`);
  log.info({ interfaces: config.interfaces.map((i) => `${i.name}/${i.address}`), nodeId: config.nodeId }, 'Startup complete');

  let level = config.logLevel;
  process.on('SIGUSR1', () => setLogLevel((level = Math.max(0, level - 1))));
  process.on('SIGUSR2', () => setLogLevel((level = Math.min(7, level + 1))));
  shutdown = async (signal: string, code = 0): Promise<void> => {
    log.info({ signal }, 'Shutting down');
    // Shared mode: leave the directory (calls still held stay as records of a gone node).
    await shared?.close(true);
    lifecycle.stop();
    ng.close();
    cli.close();
    http?.close();
    // Own calls stay in Redis: a restarted relay (or a peer) carries them on.
    await redis?.close();
    for (const c of registry.all()) c.close();
    await media.close();
    if (config.pidfile) {
      try {
        unlinkSync(config.pidfile);
      } catch {
        /* gone already */
      }
    }
    flushLogs();
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown?.('SIGTERM'));
  process.on('SIGINT', () => void shutdown?.('SIGINT'));
  // Commands and timers contain their own failures (the call they hit ends); what still
  // escapes is counted and logged rather than taking every other call down with it.
  process.on('uncaughtException', (err) => {
    registry.stats.internalErrors++;
    log.error({ err: err.stack }, 'uncaught exception');
  });
  process.on('unhandledRejection', (err) => {
    registry.stats.internalErrors++;
    log.error({ err: err instanceof Error ? err.stack : String(err) }, 'unhandled rejection');
  });
}
