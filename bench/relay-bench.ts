#!/usr/bin/env node
/**
 * Relay benchmark: sets up N calls over NG (offer + answer, as Kamailio does) against each
 * relay, sends G.711-sized RTP both ways through it from forked load workers, and reports loss,
 * latency through the relay and the relay's CPU per relayed packet. See docs/performance.md.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { deleteCall, inBatches, sdesKey, setUpCall, sleepUntil } from './calls.js';
import { startChurn } from './ChurnLoad.js';
import { LatencyHistogram } from './LatencyHistogram.js';
import { NgControl } from './NgControl.js';
import { cpuModel, loadAverage, processCpuTimes } from './procCpu.js';
import type { LoadPlan } from './protocol.js';
import { freePort, logPath, RelayProcess, type RelayKind } from './RelayProcess.js';
import { reportOf, startWorkers, stopWorkers, summarize } from './workers.js';
import { num } from './options.js';
import { udpDrops } from './udpDrops.js';
import { NodeFloorRelay } from './NodeFloorRelay.js';
import { claimSessionPriority } from './priority.js';

const { values: opt } = parseArgs({
  options: {
    relays: { type: 'string', default: 'ngrelay,rtpengine' },
    target: { type: 'string' },
    pid: { type: 'string' },
    calls: { type: 'string', default: '200,1000' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    drain: { type: 'string', default: '1' },
    rate: { type: 'string', default: '50' },
    workers: { type: 'string', default: String(os.availableParallelism()) },
    'port-min': { type: 'string', default: '20000' },
    'port-max': { type: 'string', default: '29999' },
    'ngrelay-arg': { type: 'string', multiple: true, default: [] },
    'rtpengine-arg': { type: 'string', multiple: true, default: [] },
    json: { type: 'string' },
    direct: { type: 'boolean', default: false },
    'ng-probe': { type: 'boolean', default: false },
    'ng-probe-interval': { type: 'string', default: '10' },
    media: { type: 'string', default: 'plain' },
    churn: { type: 'string', default: '0' },
    'churn-rate': { type: 'string', default: '200' },
    help: { type: 'boolean', default: false },
  },
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench -- [options]
  --relays=ngrelay,rtpengine  relays to start and stop ourselves (loopback only); node-floor adds
                              a bare relay in Node (plain media only): Node's own cost per packet
  --target=HOST:PORT --pid=PID  also measure a relay that is already running (NG address, its PID)
  --calls=200,1000            call counts; each call is 2 streams of --rate packets/s
  --duration=20 --warmup=3 --drain=1   seconds measured, not measured before, waited after
  --workers=N                 load worker processes (default: CPUs)
  --ngrelay-arg=ARG --rtpengine-arg=ARG   extra relay options (repeatable)
  --port-min --port-max       relay media port range
  --direct                    also run the generator without a relay (its own latency floor and CPU)
  --ng-probe                  while the media runs, send an NG request every --ng-probe-interval ms
                              (default 10; ping and query of a call in turn, never waiting for the
                              previous answer) and report their round trip: p50, p99, max
  --media=plain,srtp          plain: RTP both ways; srtp: the callee speaks SDES (RTP/SAVP,
                              AES_CM_128_HMAC_SHA1_80), so the relay decrypts one direction and
                              encrypts the other
  --churn=0,50                NG churn while the media runs: that many calls in flight (offer,
                              answer, delete; 0 = none), started at no more than --churn-rate
                              calls/s (default 200) so that both relays get the same signalling;
                              relays then run with --delete-delay=0
  --json=FILE                 also write the results as JSON
`);
  process.exit(0);
}

type Media = 'plain' | 'srtp';

interface Result {
  relay: string;
  calls: number;
  media: Media;
  /** NG calls in flight beside the media (0: none), the rate they reached, their failures and p99 round trip. */
  churn: number;
  churnCallsPerSecond?: number;
  churnFailures?: number;
  churnP99Us?: number;
  /** Packets the kernel dropped at full receive buffers: the relay's sockets, the generators'. */
  relayDrops: number;
  generatorDrops: number;
  authFailures: number;
  packetsPerSecond: number;
  /** What the generator managed to offer in the measured window (below plan when it is the bottleneck). */
  sentPerSecond: number;
  sent: number;
  received: number;
  lossPercent: number;
  silentStreams: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  relayCpuSeconds: number;
  relayCpuPercent: number;
  relayUsPerPacket: number;
  /** The part of it in the relay's own code (the rest is the kernel's, in its system calls). */
  relayUserUsPerPacket: number;
  generatorCpuPercent: number;
  generatorUsPerPacket: number;
  loadAverage: string;
  /** NG round trips of the concurrent prober (--ng-probe), in µs; failures: no answer within 3 s. */
  ngProbes?: number;
  ngProbeFailures?: number;
  ngP50Us?: number;
  ngP99Us?: number;
  ngMaxUs?: number;
}

interface NgProbe {
  stop(): Promise<{ probes: number; failures: number; histogram: LatencyHistogram }>;
}

/**
 * Sends `ping` and `query` (of one of the calls) in turn every `intervalMs` on its own socket,
 * each on schedule whether or not the previous one was answered (as a proxy's NG traffic does),
 * and records each round trip.
 */
function startNgProbe(relay: RelayProcess, callId: string, intervalMs: number): NgProbe {
  const ng = new NgControl(relay.ngHost, relay.ngPort);
  const histogram = new LatencyHistogram();
  const inFlight = new Set<Promise<void>>();
  let probes = 0;
  let failures = 0;
  const timer = setInterval(() => {
    const dict = probes % 2 === 0 ? { command: 'ping' } : { command: 'query', 'call-id': callId, 'from-tag': `${callId}-a` };
    probes++;
    const t0 = performance.now();
    const p = ng.request(dict).then(
      () => histogram.record((performance.now() - t0) * 1000),
      () => void failures++,
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      ng.close();
      return { probes, failures, histogram };
    },
  };
}


const cookieRun = `${process.pid.toString(36)}${Date.now().toString(36)}`;

/**
 * Measures one relay, or with `null` the generator alone (packets sent straight back to itself),
 * or Node's floor (a bare relay in Node, plain media only).
 */
async function measure(relay: RelayProcess | NodeFloorRelay | null, calls: number, media: Media, churn: number): Promise<Result> {
  const workerCount = Math.max(1, Math.min(num(opt.workers), calls));
  const workers = await startWorkers(workerCount);
  const destinations: number[][] = workers.map(() => []);
  const srtp: ({ send: string | null; recv: string | null } | null)[][] = workers.map(() => []);
  try {
    let relayAddress = '127.0.0.1';
    await inBatches(calls, 32, async (i) => {
      const w = i % workerCount;
      const port = workers[w]!.port;
      if (relay === null) {
        destinations[w]!.push(port, port);
        return;
      }
      if (relay instanceof NodeFloorRelay) {
        destinations[w]!.push(relay.ports[2 * i]!, relay.ports[2 * i + 1]!);
        return;
      }
      const me = { address: '127.0.0.1', port };
      const key = media === 'srtp' ? sdesKey(i) : undefined;
      const c = await setUpCall(relay.ng, `bench-${cookieRun}-${calls}-${i}`, me, me, undefined, key);
      if (c.callerTo.address !== c.calleeTo.address) throw new Error(`relay uses two media addresses (${c.callerTo.address}, ${c.calleeTo.address})`);
      relayAddress = c.callerTo.address;
      // Stream 2i: the caller, plain, arriving at the callee under the relay's key; 2i+1: the callee, under its own.
      const at = destinations[w]!.length;
      destinations[w]!.push(c.callerTo.port, c.calleeTo.port);
      if (key) {
        srtp[w]![at] = { send: null, recv: c.relayKey!.toString('base64') };
        srtp[w]![at + 1] = { send: key.toString('base64'), recv: null };
      }
    });
    const warmupMs = num(opt.warmup) * 1000;
    const plan: Omit<LoadPlan, 'destinations'> = {
      type: 'plan',
      relayHost: relayAddress,
      startAt: Date.now() + 500,
      warmupMs,
      durationMs: num(opt.duration) * 1000,
      drainMs: num(opt.drain) * 1000,
      packetsPerSecond: num(opt.rate),
    };
    const reports = workers.map((w) => reportOf(w.child));
    workers.forEach((w, i) => w.child.send({ ...plan, destinations: destinations[i]!, ...(media === 'srtp' ? { srtp: srtp[i]! } : {}) } satisfies LoadPlan));
    const churning = relay instanceof RelayProcess && churn > 0 ? startChurn(relay.ngHost, relay.ngPort, churn, num(opt['churn-rate']), `churn-${cookieRun}-${calls}-${media}`) : null;
    await sleepUntil(plan.startAt + warmupMs);
    const load = loadAverage();
    const relayPort = (p: number): boolean => p >= num(opt['port-min']) && p <= num(opt['port-max']);
    const generatorPorts = new Set(workers.map((w) => w.port));
    const drops0 = [udpDrops(relayPort), udpDrops((p) => generatorPorts.has(p))];
    const cpu0 = relay === null ? { user: 0, system: 0 } : processCpuTimes(relay.pid);
    const probe = relay instanceof RelayProcess && opt['ng-probe'] ? startNgProbe(relay, `bench-${cookieRun}-${calls}-0`, num(opt['ng-probe-interval'])) : null;
    // Read while the generators' sockets are still open: they close them once they have reported.
    const drops1 = sleepUntil(plan.startAt + warmupMs + plan.durationMs + plan.drainMs / 2).then(() => [udpDrops(relayPort), udpDrops((p) => generatorPorts.has(p))]);
    const all = await Promise.all(reports);
    const cpu1 = relay === null ? { user: 0, system: 0 } : processCpuTimes(relay.pid);
    const drops = await drops1;
    const probed = await probe?.stop();
    const churned = await churning?.stop();
    const { histogram, sent, received, silentStreams: silent, authFailures, cpuUs: genCpuUs, wallMs } = summarize(all);
    const relayUser = cpu1.user - cpu0.user;
    const relayCpu = relayUser + cpu1.system - cpu0.system;
    return {
      relay: relay instanceof NodeFloorRelay ? 'node-floor' : (relay?.name ?? 'direct (no relay)'),
      calls,
      media,
      churn,
      ...(churned && {
        churnCallsPerSecond: churned.calls / churned.seconds,
        churnFailures: churned.failures,
        churnP99Us: Math.round(churned.histogram.percentile(0.99)),
      }),
      relayDrops: drops[0]! - drops0[0]!,
      generatorDrops: drops[1]! - drops0[1]!,
      authFailures,
      packetsPerSecond: calls * 2 * plan.packetsPerSecond,
      sentPerSecond: Math.round(sent / (plan.durationMs / 1000)),
      sent,
      received,
      lossPercent: sent === 0 ? 100 : (100 * (sent - received)) / sent,
      silentStreams: silent,
      p50Us: Math.round(histogram.percentile(0.5)),
      p99Us: Math.round(histogram.percentile(0.99)),
      maxUs: Math.round(histogram.max),
      relayCpuSeconds: relayCpu,
      relayCpuPercent: (100 * relayCpu * 1000) / wallMs,
      relayUsPerPacket: received === 0 ? NaN : (relayCpu * 1e6) / received,
      relayUserUsPerPacket: received === 0 ? NaN : (relayUser * 1e6) / received,
      generatorCpuPercent: (100 * genCpuUs) / 1000 / wallMs,
      generatorUsPerPacket: sent === 0 ? NaN : genCpuUs / sent,
      loadAverage: load,
      ...(probed && {
        ngProbes: probed.probes,
        ngProbeFailures: probed.failures,
        ngP50Us: Math.round(probed.histogram.percentile(0.5)),
        ngP99Us: Math.round(probed.histogram.percentile(0.99)),
        ngMaxUs: Math.round(probed.histogram.max),
      }),
    };
  } finally {
    stopWorkers(workers);
  }
}

async function deleteCalls(relay: RelayProcess, calls: number): Promise<void> {
  await inBatches(calls, 32, (i) => deleteCall(relay.ng, `bench-${cookieRun}-${calls}-${i}`));
}

function table(results: Result[]): string {
  const head = ['relay', 'calls', 'media', 'NG churn: in flight, calls/s, p99 ms', 'planned pkt/s', 'sent pkt/s', 'sent', 'received', 'loss %',
    'dropped at relay / generator sockets', 'p50 µs', 'p99 µs', 'max µs', 'relay CPU %', 'relay µs/pkt', 'of it user', 'generator CPU %', 'load avg'];
  const probed = opt['ng-probe'];
  if (probed) head.push('NG probes (failed)', 'NG p50 ms', 'NG p99 ms', 'NG max ms');
  const ms = (us: number | undefined): string => (us === undefined || !Number.isFinite(us) ? '–' : (us / 1000).toFixed(2));
  const churn = (r: Result): string => (r.churn === 0 ? '–' : `${r.churn}, ${r.churnCallsPerSecond?.toFixed(0)}${r.churnFailures ? ` (${r.churnFailures} failed)` : ''}, ${ms(r.churnP99Us)}`);
  const rows = results.map((r) => [r.relay, r.calls, r.media + (r.authFailures ? ` (${r.authFailures} auth failures)` : ''), churn(r), r.packetsPerSecond, r.sentPerSecond, r.sent, r.received, r.lossPercent.toFixed(3),
    `${r.relayDrops} / ${r.generatorDrops}`, r.p50Us, r.p99Us, Math.round(r.maxUs), r.relayCpuPercent.toFixed(1), r.relayUsPerPacket.toFixed(2), r.relayUserUsPerPacket.toFixed(2), r.generatorCpuPercent.toFixed(1), r.loadAverage,
    ...(probed ? [r.ngProbes === undefined ? '–' : `${r.ngProbes} (${r.ngProbeFailures})`, ms(r.ngP50Us), ms(r.ngP99Us), ms(r.ngMaxUs)] : [])]);
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function ratios(results: Result[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (r.sentPerSecond < r.packetsPerSecond * 0.99) {
      out.push(`warning: ${r.relay} at ${r.calls} calls (${r.media}): the generator offered ${r.sentPerSecond} of ${r.packetsPerSecond} pkt/s (machine out of CPU)`);
    }
  }
  const key = (r: Result): string => `${r.calls} calls, ${r.media}, churn ${r.churn}`;
  for (const k of new Set(results.map(key))) {
    const ng = results.find((r) => key(r) === k && r.relay === 'ngrelay');
    const rt = results.find((r) => key(r) === k && r.relay === 'rtpengine');
    if (ng && rt) {
      out.push(`${k}: ngrelay/rtpengine CPU per packet = ${(ng.relayUsPerPacket / rt.relayUsPerPacket).toFixed(2)} (user ${(ng.relayUserUsPerPacket / rt.relayUserUsPerPacket).toFixed(2)}), ` +
        `p99 ${ng.p99Us} vs ${rt.p99Us} µs (${(ng.p99Us / rt.p99Us).toFixed(2)}), loss ${ng.lossPercent.toFixed(3)} % vs ${rt.lossPercent.toFixed(3)} %`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(os.tmpdir(), 'relay-bench-'));
  const callCounts = opt.calls.split(',').map(num);
  const medias = opt.media.split(',').filter((s) => s !== '') as Media[];
  for (const m of medias) if (m !== 'plain' && m !== 'srtp') throw new Error(`unknown media '${m}'`);
  const churns = opt.churn.split(',').map(num);
  const floor = opt.relays.split(',').includes('node-floor');
  const kinds = opt.relays.split(',').filter((s) => s !== '' && s !== 'node-floor') as RelayKind[];
  for (const k of kinds) if (k !== 'ngrelay' && k !== 'rtpengine') throw new Error(`unknown relay '${k}'`);
  // The churn's calls must give their ports back at once, or they hold the port range for 30 s.
  const churnArgs = churns.some((c) => c > 0) ? ['--delete-delay=0'] : [];
  process.stdout.write(`${new Date().toISOString()} machine: ${os.availableParallelism()} CPUs, ${cpuModel()}, node ${process.version}; load average ${loadAverage()}\n`);
  process.stdout.write(`relay logs in ${logDir}; scheduling: ${claimSessionPriority()}\n`);
  const results: Result[] = [];
  for (const calls of callCounts) for (const media of medias) for (const churn of churns) {
    if (opt.direct && media === 'plain' && churn === 0) {
      const r = await measure(null, calls, media, 0);
      results.push(r);
      process.stdout.write(`${table([r]).split('\n')[2]}\n`);
    }
    if (floor && media === 'plain' && churn === 0) {
      const relay = await NodeFloorRelay.start(calls);
      try {
        const r = await measure(relay, calls, media, 0);
        results.push(r);
        process.stdout.write(`${table([r]).split('\n')[2]}\n`);
      } finally {
        relay.stop();
      }
    }
    for (const kind of kinds) {
      const ngPort = await freePort();
      const relay = await RelayProcess.launch({
        kind,
        ngPort,
        cliPort: await freePort(),
        portMin: num(opt['port-min']),
        portMax: num(opt['port-max']),
        extraArgs: [...churnArgs, ...(kind === 'ngrelay' ? opt['ngrelay-arg'] : opt['rtpengine-arg'])],
        logFile: logPath(logDir, `${kind}-${calls}-${media}-${churn}`),
      });
      try {
        process.stdout.write(`${kind} (pid ${relay.pid}): ${relay.command.join(' ')}\n`);
        const r = await measure(relay, calls, media, churn);
        results.push(r);
        process.stdout.write(`${table([r]).split('\n')[2]}\n`);
      } finally {
        await relay.stop();
      }
    }
    if (opt.target !== undefined) {
      const [host, port] = opt.target.split(':');
      if (opt.pid === undefined) throw new Error('--target needs --pid (the relay process whose CPU is measured)');
      const relay = RelayProcess.attach('external', host!, num(port!), num(opt.pid));
      try {
        await relay.ng.waitPong(5000);
        results.push(await measure(relay, calls, media, churn));
        await deleteCalls(relay, calls);
      } finally {
        relay.ng.close();
      }
    }
  }
  process.stdout.write(`\n${table(results)}\n\n${ratios(results).join('\n')}\n`);
  if (opt.json !== undefined) writeFileSync(opt.json, JSON.stringify({ cpu: cpuModel(), cpus: os.availableParallelism(), results }, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`relay-bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
