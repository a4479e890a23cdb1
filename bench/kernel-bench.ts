#!/usr/bin/env node
/**
 * Kernel fast-path benchmark: ngrelay with its tc/eBPF fast path (`--table=N`), ngrelay in
 * userspace (`--table=-1`) and rtpengine in userspace, side by side with a direct
 * endpoint-to-endpoint baseline, in network namespaces (bench/BenchLab.ts): the relay between
 * two links, on one bridged link, or with its address on lo and both peers routed to it. Reports loss,
 * latency, CPU per relayed packet system-wide, and how long a confirmed stream takes to leave
 * userspace. See docs/performance.md.
 *
 * The process re-runs itself inside the relay's namespace (where the relays, their NG and CLI
 * sockets live); the outer process only builds the namespaces and deletes them at exit.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ADDR, BenchLab, RELAY_INTERFACES, TOPOLOGIES, topologyEnds, type Topology } from './BenchLab.js';
import { inBatches, setUpCall, sleep, sleepUntil, type CallPorts } from './calls.js';
import { monoMs } from './clock.js';
import {
  busySeconds, cpuDelta, cpuModel, descendants, kernelRelease, ksoftirqdPids, loadAverage, processesCpuSeconds, systemCpu, udpInDatagrams,
} from './procCpu.js';
import type { LoadPlan } from './protocol.js';
import { freePort, logPath, RelayProcess, RTPENGINE, type RelayKind } from './RelayProcess.js';
import { probe, reportOf, startWorkers, stopWorkers, summarize, type Worker } from './workers.js';
import { num } from './options.js';

const { values: opt } = parseArgs({
  options: {
    relays: { type: 'string', default: 'kernel,userspace,rtpengine' },
    topologies: { type: 'string', default: 'two-link,hairpin,routed' },
    forwarding: { type: 'string', default: 'on' },
    calls: { type: 'string', default: '200,1000' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    drain: { type: 'string', default: '1' },
    rate: { type: 'string', default: '50' },
    'handoff-calls': { type: 'string', default: '100' },
    'probe-interval': { type: 'string', default: '0.2' },
    'probe-window': { type: 'string', default: '40' },
    table: { type: 'string', default: '100' },
    json: { type: 'string' },
    inside: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench:kernel -- [options]   (root; after npm run build)
  --relays=kernel,userspace,rtpengine   ngrelay --table=N, ngrelay --table=-1, rtpengine --table=-1
  --topologies=two-link,hairpin,routed  relay between two links, on one bridged link, or its address on lo
                                        with both peers routed to it over the two links
  --forwarding=on                       IP forwarding in the relay's namespace (off: the fast path sends by
                                        the device its loader looked up per entry)
  --calls=200,1000 --rate=50            calls; each call is 2 streams of --rate packets/s
  --duration=15 --warmup=3 --drain=1    seconds measured, not measured before, waited after
  --handoff-calls=100                   calls timed one by one from confirmation to the kernel (0: skip)
  --probe-interval=0.2 --probe-window=40   ms between probe packets, ms of probing per call
  --table=100                           first fast-path table number (each ngrelay start takes the next)
  --json=FILE                           also write the results as JSON
`);
  process.exit(0);
}


type Relay = 'kernel' | 'userspace' | 'rtpengine';
const RELAY_NAME: Record<Relay, string> = {
  kernel: 'ngrelay --table=N (kernel)',
  userspace: 'ngrelay --table=-1',
  rtpengine: 'rtpengine --table=-1',
};

interface Result {
  topology: Topology | 'direct';
  relay: string;
  calls: number;
  packetsPerSecond: number;
  sentPerSecond: number;
  sent: number;
  received: number;
  lossPercent: number;
  silentStreams: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  /** CPU per received packet, µs: the relay (and its loader), the load generators, the softirq threads. */
  relayUs: number;
  generatorUs: number;
  ksoftirqdUs: number;
  totalUs: number;
  /** totalUs minus the direct baseline's totalUs at the same rate. */
  addedUs: number;
  /** /proc/stat over the window, per received packet: softirq time, and all busy time (other users' work included). */
  softirqUs: number;
  machineBusyUs: number;
  /** UDP datagrams delivered to sockets in the relay's namespace during the measured window. */
  userspaceDatagrams: number;
  /** Kernel path: ms from the first packet until the last one reached the relay's sockets (all calls at once). */
  batchHandoffMs: number | null;
  loadAverage: string;
}

interface Handoff {
  topology: Topology;
  calls: number;
  /** Time from confirmation until packets stopped reaching userspace, ms. */
  userspaceAvgMs: number;
  userspaceP99Ms: number;
  userspaceMaxMs: number;
  /** Calls still reaching userspace at the end of the probe window. */
  notHandedOff: number;
  /** Time from confirmation until `list sessions` showed both RTP ports `, kernel`, ms. */
  listedAvgMs: number;
  listedP99Ms: number;
  listedMaxMs: number;
  loadAverage: string;
  /** Every call's figure, in order (ms). */
  samples: { userspaceMs: number[]; listedMs: number[]; userspaceDatagrams: number[]; startSkewMs: number[] };
}

const percentile = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

// ---------------------------------------------------------------------------------------------
// Outer process: namespaces, then this script again inside the relay's namespace.

function outer(): void {
  for (const f of ['../kernel/ngrelay-kernel', '../kernel/fastpath.bpf.o', '../src/bin/ngrelay.js']) {
    const p = resolve(import.meta.dirname, f);
    if (!existsSync(p)) throw new Error(`${p} is missing: run 'npm run build' (with clang and libbpf-dev installed)`);
  }
  if (opt.relays.includes('rtpengine') && !existsSync(RTPENGINE)) throw new Error(`${RTPENGINE} is missing: apt-get install rtpengine-daemon, or --relays=kernel,userspace`);
  if (opt.forwarding !== 'on' && opt.forwarding !== 'off') throw new Error('--forwarding is on or off');
  const lab = BenchLab.create({ forwarding: opt.forwarding === 'on' });
  let done = false;
  const cleanup = (): void => {
    if (done) return;
    done = true;
    lab.destroy();
  };
  process.once('exit', cleanup);
  const child = spawn('ip', ['netns', 'exec', lab.relay, process.execPath, import.meta.filename, ...process.argv.slice(2), `--inside=${lab.prefix}`], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, sig);
    });
  }
  child.once('exit', (code, signal) => {
    cleanup();
    process.exit(code ?? (signal ? 1 : 0));
  });
}

// ---------------------------------------------------------------------------------------------
// Inner process (in the relay's namespace).

let nextTable = 0;
/** What the inner process has running, stopped by PID when it is interrupted. */
const liveRelays = new Set<RelayProcess>();
const liveWorkers = new Set<Worker>();
const cookieRun = `${process.pid.toString(36)}${Date.now().toString(36)}`;
let callSeq = 0;

async function launch(which: Relay, logDir: string, label: string): Promise<RelayProcess> {
  const kind: RelayKind = which === 'rtpengine' ? 'rtpengine' : 'ngrelay';
  const table = which === 'kernel' ? nextTable++ : -1;
  if (table > 255) throw new Error('ran out of table numbers (at most 255)');
  const extraArgs = ['--endpoint-learning=immediate', '--delete-delay=0'];
  if (kind === 'ngrelay') extraArgs.push(`--table=${table}`);
  const relay = await RelayProcess.launch({
    kind,
    ngPort: await freePort(),
    cliPort: await freePort(),
    portMin: 20000,
    portMax: 29999,
    interfaces: RELAY_INTERFACES,
    extraArgs,
    logFile: logPath(logDir, label),
  });
  liveRelays.add(relay);
  return relay;
}

async function stopRelay(relay: RelayProcess): Promise<void> {
  await relay.stop();
  liveRelays.delete(relay);
}

interface Pair {
  caller: Worker;
  callee: Worker;
}

async function startPair(lab: BenchLab): Promise<Pair> {
  // Bound to any address: each packet leaves from the address of the link it takes.
  const [caller, callee] = await Promise.all([startWorkers(1, { netns: lab.a, bind: '0.0.0.0' }), startWorkers(1, { netns: lab.b, bind: '0.0.0.0' })]);
  liveWorkers.add(caller[0]!);
  liveWorkers.add(callee[0]!);
  return { caller: caller[0]!, callee: callee[0]! };
}

function stopPair(pair: Pair): void {
  stopWorkers([pair.caller, pair.callee]);
  liveWorkers.delete(pair.caller);
  liveWorkers.delete(pair.callee);
}

async function setUpCalls(relay: RelayProcess, pair: Pair, topology: Topology, calls: number): Promise<{ ids: string[]; ports: CallPorts[] }> {
  const ends = topologyEnds(topology);
  const ids = Array.from({ length: calls }, () => `kb-${cookieRun}-${++callSeq}`);
  const ports = await inBatches(calls, 32, (i) =>
    setUpCall(relay.ng, ids[i]!, { address: ends.caller, port: pair.caller.port }, { address: ends.callee, port: pair.callee.port }, ends.direction));
  return { ids, ports };
}

/** CPU counters sampled at the edges of the measured window. */
function sampleCpu(relayPids: number[], softirqPids: number[]): { relay: number; softirqd: number; machine: ReturnType<typeof systemCpu>; udp: number } {
  return { relay: processesCpuSeconds(relayPids), softirqd: processesCpuSeconds(softirqPids), machine: systemCpu(), udp: udpInDatagrams() };
}

/** One load run: the relay (or none: the direct link) between a caller in A and a callee in B. */
async function measure(lab: BenchLab, relay: RelayProcess | null, relayKind: Relay | null, topology: Topology | 'direct', calls: number): Promise<Result> {
  const pair = await startPair(lab);
  try {
    let callerDest: { host: string; ports: number[] };
    let calleeDest: { host: string; ports: number[] };
    if (relay === null) {
      callerDest = { host: ADDR.directB, ports: new Array<number>(calls).fill(pair.callee.port) };
      calleeDest = { host: ADDR.directA, ports: new Array<number>(calls).fill(pair.caller.port) };
    } else {
      const { ports } = await setUpCalls(relay, pair, topology as Topology, calls);
      callerDest = { host: ports[0]!.callerTo.address, ports: ports.map((p) => p.callerTo.port) };
      calleeDest = { host: ports[0]!.calleeTo.address, ports: ports.map((p) => p.calleeTo.port) };
    }
    const warmupMs = num(opt.warmup) * 1000;
    const base: Omit<LoadPlan, 'destinations' | 'relayHost'> = {
      type: 'plan',
      startAt: Date.now() + 500,
      warmupMs,
      durationMs: num(opt.duration) * 1000,
      drainMs: num(opt.drain) * 1000,
      packetsPerSecond: num(opt.rate),
    };
    const reports = [reportOf(pair.caller.child), reportOf(pair.callee.child)];
    pair.caller.child.send({ ...base, relayHost: callerDest.host, destinations: callerDest.ports } satisfies LoadPlan);
    pair.callee.child.send({ ...base, relayHost: calleeDest.host, destinations: calleeDest.ports } satisfies LoadPlan);

    // From the first packet on, watch the relay namespace's UDP deliveries: with the fast path
    // they stop once every call is in the kernel.
    let batchHandoffMs: number | null = null;
    if (relayKind === 'kernel') {
      await sleepUntil(base.startAt);
      const t0 = monoMs();
      let last = udpInDatagrams();
      let lastChange = t0;
      while (monoMs() - t0 < Math.min(warmupMs, 2500)) {
        await sleep(1);
        const u = udpInDatagrams();
        if (u !== last) {
          last = u;
          lastChange = monoMs();
        }
      }
      batchHandoffMs = lastChange - t0;
    }
    await sleepUntil(base.startAt + warmupMs);
    const relayPids = relay === null ? [] : [relay.pid, ...descendants(relay.pid)];
    const softirqPids = ksoftirqdPids();
    const load = loadAverage();
    const s0 = sampleCpu(relayPids, softirqPids);
    const all = await Promise.all(reports);
    const s1 = sampleCpu(relayPids, softirqPids);
    const sum = summarize(all);
    const perPacket = (seconds: number): number => (sum.received === 0 ? NaN : (seconds * 1e6) / sum.received);
    const machine = cpuDelta(s0.machine, s1.machine);
    const relayUs = perPacket(s1.relay - s0.relay);
    const generatorUs = perPacket(sum.cpuUs / 1e6);
    const ksoftirqdUs = perPacket(s1.softirqd - s0.softirqd);
    return {
      topology,
      relay: relayKind === null ? 'direct (no relay)' : RELAY_NAME[relayKind],
      calls,
      packetsPerSecond: calls * 2 * base.packetsPerSecond,
      sentPerSecond: Math.round(sum.sent / (base.durationMs / 1000)),
      sent: sum.sent,
      received: sum.received,
      lossPercent: sum.sent === 0 ? 100 : (100 * (sum.sent - sum.received)) / sum.sent,
      silentStreams: sum.silentStreams,
      p50Us: Math.round(sum.histogram.percentile(0.5)),
      p99Us: Math.round(sum.histogram.percentile(0.99)),
      maxUs: Math.round(sum.histogram.max),
      relayUs,
      generatorUs,
      ksoftirqdUs,
      totalUs: relayUs + generatorUs + ksoftirqdUs,
      addedUs: NaN,
      softirqUs: perPacket(machine.softirq + machine.irq),
      machineBusyUs: perPacket(busySeconds(machine)),
      userspaceDatagrams: s1.udp - s0.udp,
      batchHandoffMs,
      loadAverage: load,
    };
  } finally {
    stopPair(pair);
  }
}

/** Lines of `list sessions ID` ending `, kernel` (offloaded ports). */
const kernelPorts = (listing: string): number => listing.split('\n').filter((l) => l.endsWith(', kernel')).length;

/**
 * Hand-off of calls one at a time: both ends start sending at the same instant, one packet
 * every --probe-interval ms for --probe-window ms. The relay's namespace counts the UDP
 * datagrams its sockets receive (Udp InDatagrams): with U of them, the first U packets (in
 * send order, both directions) went through userspace; the send time of packet U+1 minus the
 * time both ends had sent their first packet (confirmation) is the hand-off time. A second
 * batch of calls times instead until `list sessions` shows both RTP ports `, kernel`.
 */
async function handoff(lab: BenchLab, relay: RelayProcess, topology: Topology, calls: number): Promise<Handoff> {
  const pair = await startPair(lab);
  const interval = num(opt['probe-interval']);
  const count = Math.max(2, Math.round(num(opt['probe-window']) / interval));
  try {
    const { ids, ports } = await setUpCalls(relay, pair, topology, 2 * calls);
    const load = loadAverage();
    const burst = (i: number, startAtMono: number): Promise<[number[], number[]]> => Promise.all([
      probe(pair.caller, { host: ports[i]!.callerTo.address, port: ports[i]!.callerTo.port, startAtMono, count, intervalMs: interval }),
      probe(pair.callee, { host: ports[i]!.calleeTo.address, port: ports[i]!.calleeTo.port, startAtMono, count, intervalMs: interval }),
    ]);
    const viaUserspace: number[] = [];
    const datagrams: number[] = [];
    const skew: number[] = [];
    let notHandedOff = 0;
    for (let i = 0; i < calls; i++) {
      const u0 = udpInDatagrams();
      const [a, b] = await burst(i, monoMs() + 5);
      // Let the relay read what is still queued for it.
      let u1 = udpInDatagrams();
      for (let k = 0; k < 20; k++) {
        await sleep(5);
        const u = udpInDatagrams();
        if (u === u1) break;
        u1 = u;
      }
      const n = u1 - u0;
      const sent = [...a, ...b].sort((x, y) => x - y);
      const confirmed = Math.max(a[0]!, b[0]!);
      datagrams.push(n);
      skew.push(Math.round((b[0]! - a[0]!) * 100) / 100);
      if (n >= sent.length) notHandedOff++;
      else viaUserspace.push(Math.max(0, sent[n]! - confirmed));
    }
    const listed: number[] = [];
    for (let i = calls; i < 2 * calls; i++) {
      const startAt = monoMs() + 5;
      const sending = burst(i, startAt);
      let seenAt = NaN;
      while (monoMs() < startAt + count * interval + 200) {
        if (kernelPorts(await relay.cli(`list sessions ${ids[i]!}`)) >= 2) {
          seenAt = monoMs();
          break;
        }
      }
      const [a, b] = await sending;
      if (!Number.isNaN(seenAt)) listed.push(seenAt - Math.max(a[0]!, b[0]!));
    }
    return {
      topology,
      calls,
      userspaceAvgMs: mean(viaUserspace),
      userspaceP99Ms: percentile(viaUserspace, 0.99),
      userspaceMaxMs: Math.max(...viaUserspace),
      notHandedOff,
      listedAvgMs: mean(listed),
      listedP99Ms: percentile(listed, 0.99),
      listedMaxMs: Math.max(...listed),
      loadAverage: load,
      samples: { userspaceMs: viaUserspace.map((x) => Math.round(x * 100) / 100), listedMs: listed.map((x) => Math.round(x * 100) / 100),
        userspaceDatagrams: datagrams, startSkewMs: skew },
    };
  } finally {
    stopPair(pair);
  }
}

const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '–');

function resultTable(results: Result[]): string {
  const head = ['topology', 'relay', 'calls', 'planned pkt/s', 'sent pkt/s', 'received', 'loss %', 'p50 µs', 'p99 µs', 'max µs',
    'relay µs/pkt', 'generators µs/pkt', 'ksoftirqd µs/pkt', 'total µs/pkt', 'added µs/pkt', 'softirq µs/pkt (/proc/stat)', 'machine busy µs/pkt',
    'datagrams into relay sockets', 'batch hand-off ms', 'load avg'];
  const rows = results.map((r) => [r.topology, r.relay, r.calls, r.packetsPerSecond, r.sentPerSecond, r.received, r.lossPercent.toFixed(3),
    r.p50Us, r.p99Us, r.maxUs, f(r.relayUs), f(r.generatorUs), f(r.ksoftirqdUs), f(r.totalUs), f(r.addedUs), f(r.softirqUs), f(r.machineBusyUs),
    r.topology === 'direct' ? '–' : r.userspaceDatagrams, r.batchHandoffMs === null ? '–' : f(r.batchHandoffMs, 0), r.loadAverage]);
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function handoffTable(h: Handoff[]): string {
  const head = ['topology', 'calls', 'to userspace silence: avg ms', 'p99 ms', 'max ms', 'not handed off', '`, kernel` listed: avg ms', 'p99 ms', 'max ms', 'load avg'];
  const rows = h.map((x) => [x.topology, x.calls, f(x.userspaceAvgMs), f(x.userspaceP99Ms), f(x.userspaceMaxMs), x.notHandedOff,
    f(x.listedAvgMs), f(x.listedP99Ms), f(x.listedMaxMs), x.loadAverage]);
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function verdicts(results: Result[], handoffs: Handoff[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (r.sentPerSecond < r.packetsPerSecond * 0.99) {
      out.push(`warning: ${r.topology} ${r.relay} at ${r.calls} calls: the generator offered ${r.sentPerSecond} of ${r.packetsPerSecond} pkt/s (machine out of CPU)`);
    }
  }
  for (const r of results.filter((x) => x.relay === RELAY_NAME.kernel)) {
    const rt = results.find((x) => x.relay === RELAY_NAME.rtpengine && x.calls === r.calls && x.topology === r.topology);
    const direct = results.find((x) => x.topology === 'direct' && x.calls === r.calls);
    if (!rt) continue;
    const ratio = r.addedUs / rt.addedUs;
    out.push(`${r.topology}, ${r.calls} calls: kernel/rtpengine added CPU per packet = ${f(ratio)} (${f(r.addedUs)} vs ${f(rt.addedUs)} µs; target ≤ 0.2: ${ratio <= 0.2 ? 'met' : 'missed'}); ` +
      `loss ${r.lossPercent.toFixed(3)} % vs ${rt.lossPercent.toFixed(3)} % (target 0: ${r.lossPercent === 0 ? 'met' : 'missed'}); ` +
      `p99 ${r.p99Us} vs ${rt.p99Us} µs (target ≤: ${r.p99Us <= rt.p99Us ? 'met' : 'missed'})` +
      (direct ? `; added p50/p99 over direct ${r.p50Us - direct.p50Us}/${r.p99Us - direct.p99Us} µs vs rtpengine ${rt.p50Us - direct.p50Us}/${rt.p99Us - direct.p99Us} µs` : ''));
  }
  for (const h of handoffs) {
    out.push(`hand-off (${h.topology}, ${h.calls} calls one by one): avg ${f(h.userspaceAvgMs)} ms, p99 ${f(h.userspaceP99Ms)} ms until packets stop reaching userspace ` +
      `(target ≤ 5 ms: ${h.userspaceP99Ms <= 5 && h.notHandedOff === 0 ? 'met' : 'missed'}); listed as kernel after avg ${f(h.listedAvgMs)}, p99 ${f(h.listedP99Ms)} ms`);
  }
  return out;
}

async function inner(prefix: string): Promise<void> {
  const lab = BenchLab.attach(prefix);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      stopWorkers([...liveWorkers]);
      void Promise.all([...liveRelays].map((r) => r.stop())).finally(() => process.exit(1));
    });
  }
  nextTable = num(opt.table);
  const logDir = mkdtempSync(join(os.tmpdir(), 'kernel-bench-'));
  const callCounts = opt.calls.split(',').filter((s) => s !== '').map(num);
  const relays = opt.relays.split(',').filter((s) => s !== '') as Relay[];
  for (const r of relays) if (!(r in RELAY_NAME)) throw new Error(`unknown relay '${r}' (kernel, userspace, rtpengine)`);
  const topologies = opt.topologies.split(',').filter((s) => s !== '') as Topology[];
  for (const t of topologies) if (!TOPOLOGIES.includes(t)) throw new Error(`unknown topology '${t}' (${TOPOLOGIES.join(', ')})`);
  process.stdout.write(`${new Date().toISOString()} machine: ${os.availableParallelism()} CPUs, ${cpuModel()}, Linux ${kernelRelease()}, node ${process.version}; ` +
    `load average ${loadAverage()}; IP forwarding ${opt.forwarding}; namespaces ${prefix}-*; relay logs in ${logDir}\n`);
  const results: Result[] = [];
  const handoffs: Handoff[] = [];
  const show = (r: Result): void => {
    results.push(r);
    process.stdout.write(`${resultTable([r]).split('\n')[2]}\n`);
  };

  const handoffCalls = num(opt['handoff-calls']);
  if (handoffCalls > 0 && relays.includes('kernel')) {
    for (const topology of topologies) {
      const relay = await launch('kernel', logDir, `handoff-${topology}`);
      try {
        const h = await handoff(lab, relay, topology, handoffCalls);
        handoffs.push(h);
        process.stdout.write(`${handoffTable([h]).split('\n')[2]}\n`);
      } finally {
        await stopRelay(relay);
      }
    }
  }

  for (const calls of callCounts) {
    const direct = await measure(lab, null, null, 'direct', calls);
    direct.addedUs = 0;
    show(direct);
    for (const topology of topologies) {
      for (const kind of relays) {
        const relay = await launch(kind, logDir, `${kind}-${topology}-${calls}`);
        try {
          const r = await measure(lab, relay, kind, topology, calls);
          r.addedUs = r.totalUs - direct.totalUs;
          if (kind === 'kernel') {
            // RTP is offloaded, RTCP (none is sent) stays in userspace: each call's stream is "mixed".
            const totals = await relay.cli('list totals', 30_000).catch((e: Error) => e.message);
            const value = (label: string): string => new RegExp(`${label}\\s*:\\s*(\\d+)`).exec(totals)?.[1] ?? '?';
            process.stdout.write(`  (media streams at the end: ${value('Kernel-only media streams')} kernel-only, ` +
              `${value('Mixed kernel/userspace media streams')} mixed (RTP in the kernel), ${value('Userspace-only media streams')} userspace-only)\n`);
          }
          show(r);
        } finally {
          await stopRelay(relay);
        }
      }
    }
  }
  process.stdout.write(`\n${resultTable(results)}\n\n${handoffs.length ? handoffTable(handoffs) + '\n\n' : ''}${verdicts(results, handoffs).join('\n')}\n`);
  if (opt.json !== undefined) {
    writeFileSync(opt.json, JSON.stringify({ cpu: cpuModel(), cpus: os.availableParallelism(), kernel: kernelRelease(), results, handoffs }, null, 2));
  }
}

(opt.inside === undefined ? Promise.resolve(outer()) : inner(opt.inside)).catch((e: unknown) => {
  process.stderr.write(`kernel-bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
