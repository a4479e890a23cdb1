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
import { deleteCall, inBatches, setUpCall, sleepUntil } from './calls.js';
import { LatencyHistogram } from './LatencyHistogram.js';
import { NgControl } from './NgControl.js';
import { cpuModel, loadAverage, processCpuSeconds } from './procCpu.js';
import type { LoadPlan } from './protocol.js';
import { freePort, logPath, RelayProcess, type RelayKind } from './RelayProcess.js';
import { reportOf, startWorkers, stopWorkers, summarize } from './workers.js';
import { num } from './options.js';

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
    help: { type: 'boolean', default: false },
  },
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench -- [options]
  --relays=ngrelay,rtpengine  relays to start and stop ourselves (loopback only)
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
  --json=FILE                 also write the results as JSON
`);
  process.exit(0);
}

interface Result {
  relay: string;
  calls: number;
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

/** Measures one relay, or with `null` the generator alone (packets sent straight back to itself). */
async function measure(relay: RelayProcess | null, calls: number): Promise<Result> {
  const workerCount = Math.max(1, Math.min(num(opt.workers), calls));
  const workers = await startWorkers(workerCount);
  const destinations: number[][] = workers.map(() => []);
  try {
    let relayAddress = '127.0.0.1';
    await inBatches(calls, 32, async (i) => {
      const w = i % workerCount;
      const port = workers[w]!.port;
      if (relay === null) {
        destinations[w]!.push(port, port);
        return;
      }
      const me = { address: '127.0.0.1', port };
      const c = await setUpCall(relay.ng, `bench-${cookieRun}-${calls}-${i}`, me, me);
      if (c.callerTo.address !== c.calleeTo.address) throw new Error(`relay uses two media addresses (${c.callerTo.address}, ${c.calleeTo.address})`);
      relayAddress = c.callerTo.address;
      destinations[w]!.push(c.callerTo.port, c.calleeTo.port);
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
    workers.forEach((w, i) => w.child.send({ ...plan, destinations: destinations[i]! } satisfies LoadPlan));
    await sleepUntil(plan.startAt + warmupMs);
    const load = loadAverage();
    const cpu0 = relay === null ? 0 : processCpuSeconds(relay.pid);
    const probe = relay !== null && opt['ng-probe'] ? startNgProbe(relay, `bench-${cookieRun}-${calls}-0`, num(opt['ng-probe-interval'])) : null;
    const all = await Promise.all(reports);
    const cpu1 = relay === null ? 0 : processCpuSeconds(relay.pid);
    const probed = await probe?.stop();
    const { histogram, sent, received, silentStreams: silent, cpuUs: genCpuUs, wallMs } = summarize(all);
    const relayCpu = cpu1 - cpu0;
    return {
      relay: relay?.name ?? 'direct (no relay)',
      calls,
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
  const head = ['relay', 'calls', 'planned pkt/s', 'sent pkt/s', 'sent', 'received', 'loss %', 'p50 µs', 'p99 µs', 'max µs',
    'relay CPU %', 'relay µs/pkt', 'generator CPU %', 'load avg'];
  const probed = opt['ng-probe'];
  if (probed) head.push('NG probes (failed)', 'NG p50 ms', 'NG p99 ms', 'NG max ms');
  const ms = (us: number | undefined): string => (us === undefined || !Number.isFinite(us) ? '–' : (us / 1000).toFixed(2));
  const rows = results.map((r) => [r.relay, r.calls, r.packetsPerSecond, r.sentPerSecond, r.sent, r.received, r.lossPercent.toFixed(3),
    r.p50Us, r.p99Us, Math.round(r.maxUs), r.relayCpuPercent.toFixed(1), r.relayUsPerPacket.toFixed(2), r.generatorCpuPercent.toFixed(1), r.loadAverage,
    ...(probed ? [r.ngProbes === undefined ? '–' : `${r.ngProbes} (${r.ngProbeFailures})`, ms(r.ngP50Us), ms(r.ngP99Us), ms(r.ngMaxUs)] : [])]);
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function ratios(results: Result[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (r.sentPerSecond < r.packetsPerSecond * 0.99) {
      out.push(`warning: ${r.relay} at ${r.calls} calls: the generator offered ${r.sentPerSecond} of ${r.packetsPerSecond} pkt/s (machine out of CPU)`);
    }
  }
  for (const calls of new Set(results.map((r) => r.calls))) {
    const ng = results.find((r) => r.calls === calls && r.relay === 'ngrelay');
    const rt = results.find((r) => r.calls === calls && r.relay === 'rtpengine');
    if (ng && rt) {
      out.push(`${calls} calls: ngrelay/rtpengine CPU per packet = ${(ng.relayUsPerPacket / rt.relayUsPerPacket).toFixed(2)}, ` +
        `p99 ${ng.p99Us} vs ${rt.p99Us} µs, loss ${ng.lossPercent.toFixed(3)} % vs ${rt.lossPercent.toFixed(3)} %`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(os.tmpdir(), 'relay-bench-'));
  const callCounts = opt.calls.split(',').map(num);
  const kinds = opt.relays.split(',').filter((s) => s !== '') as RelayKind[];
  for (const k of kinds) if (k !== 'ngrelay' && k !== 'rtpengine') throw new Error(`unknown relay '${k}'`);
  process.stdout.write(`${new Date().toISOString()} machine: ${os.availableParallelism()} CPUs, ${cpuModel()}, node ${process.version}; load average ${loadAverage()}\n`);
  process.stdout.write(`relay logs in ${logDir}\n`);
  const results: Result[] = [];
  for (const calls of callCounts) {
    if (opt.direct) {
      const r = await measure(null, calls);
      results.push(r);
      process.stdout.write(`${table([r]).split('\n')[2]}\n`);
    }
    for (const kind of kinds) {
      const ngPort = await freePort();
      const relay = await RelayProcess.launch({
        kind,
        ngPort,
        cliPort: await freePort(),
        portMin: num(opt['port-min']),
        portMax: num(opt['port-max']),
        extraArgs: kind === 'ngrelay' ? opt['ngrelay-arg'] : opt['rtpengine-arg'],
        logFile: logPath(logDir, `${kind}-${calls}`),
      });
      try {
        process.stdout.write(`${kind} (pid ${relay.pid}): ${relay.command.join(' ')}\n`);
        const r = await measure(relay, calls);
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
        results.push(await measure(relay, calls));
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
