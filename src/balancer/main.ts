import { keepBuiltinPrototypesFast } from '../fastBuiltins.js';
import { removePidfile, writePidfile } from '../pidfile.js';
import { flushLogs, initLogging, isJournal, moduleLogger, setLogLevel } from '../log.js';
import { CliServer } from '../cli/CliServer.js';
import { MetricsServer } from '../metrics/MetricsServer.js';
import { BalancerMetrics } from './BalancerMetrics.js';
import { runAdminLine } from './AdminCommands.js';
import type { BalancerConfig } from './BalancerConfig.js';
import { BalancerServer } from './BalancerServer.js';
import { Cluster } from './Cluster.js';
import { saveClusters } from './ConfigSave.js';
import { BalancerConfigError, loadBalancerConfig } from './options.js';
import { SharedCallMap } from './SharedCallMap.js';

const log = moduleLogger('balancer');

/** Composition root of ngrelay-balancer. */
export async function balancerMain(argv: string[]): Promise<void> {
  keepBuiltinPrototypesFast();
  let config: BalancerConfig;
  try {
    config = loadBalancerConfig(argv);
  } catch (e) {
    if (e instanceof BalancerConfigError) {
      process.stderr.write(`ngrelay-balancer: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const toStderr = config.logStderr || config.foreground;
  // The relay's log lines: text, with journal priorities under systemd.
  initLogging({ level: config.logLevel, toStderr, format: 'default', subsystemLevels: new Map(), timestamps: true, journal: isJournal(toStderr ? 2 : 1, process.env) });

  const shared = config.redis ? new SharedCallMap(config.redis) : null;
  const clusters = config.clusters.map(
    (spec) => new Cluster(spec, { memberTimeout: config.memberTimeout, pingInterval: config.pingInterval, failures: config.failures, syncInterval: config.syncInterval, shared }),
  );
  const servers = clusters.map((c) => new BalancerServer(c));
  const file = config.configFile;
  const admin = { clusters, save: file === null ? null : () => saveClusters(file, clusters.map((c) => c.spec)) };
  // rtp_cluster's wording for a command that failed.
  const runAdmin = (line: string): string => {
    try {
      return runAdminLine(admin, line);
    } catch (e) {
      return `ERROR: ${(e as Error).message}\n`;
    }
  };
  const cli = new CliServer(runAdmin, { maxLine: 4096, maxConnections: 16 });
  const http = config.listenHttp ? new MetricsServer(new BalancerMetrics(clusters.map((cluster, i) => ({ cluster, figures: servers[i]!.figures })))) : null;
  try {
    // The map is rebuilt from the members before the first proxy request is taken.
    await Promise.all(clusters.map((c) => c.start()));
    for (let i = 0; i < clusters.length; i++) await servers[i]!.listen(clusters[i]!.spec.listenNg);
    await cli.listen(config.listenCli);
    if (http) await http.listen(config.listenHttp!);
  } catch (e) {
    process.stderr.write(`ngrelay-balancer: cannot listen: ${(e as Error).message}\n`);
    flushLogs();
    process.exit(1);
  }
  writePidfile(config.pidfile);
  log.info({ clusters: clusters.map((c) => c.name), calls: clusters.reduce((a, c) => a + c.calls, 0) }, 'Startup complete');

  let level = config.logLevel;
  process.on('SIGUSR1', () => setLogLevel((level = Math.max(0, level - 1))));
  process.on('SIGUSR2', () => setLogLevel((level = Math.min(7, level + 1))));
  const shutdown = (signal: string): void => {
    log.info({ signal }, 'Shutting down');
    for (const s of servers) s.close();
    cli.close();
    http?.close();
    for (const c of clusters) c.close();
    shared?.close();
    removePidfile(config.pidfile);
    flushLogs();
    process.exit(0);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('uncaughtException', (err) => log.error({ err: err.stack }, 'uncaught exception'));
  process.on('unhandledRejection', (err) => log.error({ err: err instanceof Error ? err.stack : String(err) }, 'unhandled rejection'));
}
