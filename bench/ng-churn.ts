#!/usr/bin/env node
/**
 * Control-plane churn benchmark: sets up and tears down N calls over NG (offer, answer,
 * delete, as Kamailio sends them) with P requests in flight, then floods `ping` for T
 * seconds, against each relay in turn; reports calls/s, NG round-trip p50/p99 and the
 * relay's resident memory at each stage. See docs/performance.md.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { LatencyHistogram } from './LatencyHistogram.js';
import type { NgControl, NgDict } from './NgControl.js';
import { cpuModel, loadAverage, peakRssMb, processCpuSeconds, rssMb } from './procCpu.js';
import { freePort, logPath, RelayProcess, type RelayKind } from './RelayProcess.js';
import { num } from './options.js';
import { rng } from './seeded.js';

const { values: opt } = parseArgs({
  options: {
    relays: { type: 'string', default: 'ngrelay,rtpengine' },
    target: { type: 'string' },
    pid: { type: 'string' },
    calls: { type: 'string', default: '50000' },
    warmup: { type: 'string', default: '0' },
    parallel: { type: 'string', default: '50' },
    flood: { type: 'string', default: '10' },
    settle: { type: 'string', default: '30' },
    rng: { type: 'string', default: '1' },
    'delete-delay': { type: 'string', default: '0' },
    'port-min': { type: 'string', default: '20000' },
    'port-max': { type: 'string', default: '29999' },
    'ngrelay-arg': { type: 'string', multiple: true, default: [] },
    'ngrelay-bin': { type: 'string' },
    'rtpengine-arg': { type: 'string', multiple: true, default: [] },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench:churn -- [options]
  --relays=ngrelay,rtpengine  relays to start (one after the other) and stop by PID; loopback only
  --target=HOST:PORT --pid=PID  also measure a relay that is already running (NG address, its PID)
  --calls=50000               calls set up and deleted (offer, answer, delete)
  --warmup=0                  calls set up and deleted first, not counted (a JIT-compiled relay's
                              steady rate; the RSS baseline is still read before them)
  --parallel=50               requests in flight (one call per slot at a time)
  --flood=10                  seconds of ping flood after the churn (0 = none)
  --settle=30                 seconds waited after the churn and after the flood before reading RSS
  --rng=1                     start of the pseudo-random call-ids, tags and SDP ports
  --delete-delay=0            passed to both relays ('' = their default of 30 s, which holds ports
                              for 30 s after each delete and exhausts the port range)
  --ngrelay-arg=ARG --rtpengine-arg=ARG   extra relay options (repeatable)
  --ngrelay-bin=PATH          another ngrelay binary (default: dist/src/bin/ngrelay.js, as installed)
  --port-min --port-max       relay media port range
  --json=FILE                 also write the results as JSON
`);
  process.exit(0);
}



function token(r: () => number, n: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

/** A phone's G.711 offer or answer, as it reaches Kamailio. */
function g711Sdp(sessionId: number, port: number): string {
  return ['v=0', `o=- ${sessionId} ${sessionId} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 0 8 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
}

interface CallPlan {
  callId: string;
  fromTag: string;
  toTag: string;
  offerSdp: string;
  answerSdp: string;
}

function plans(n: number, seed: number): CallPlan[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const session = 1_000_000 + Math.floor(r() * 1e9);
    return {
      callId: `${token(r, 24)}@127.0.0.1`,
      fromTag: token(r, 10),
      toTag: token(r, 10),
      offerSdp: g711Sdp(session, 40000 + 2 * Math.floor(r() * 10000)),
      answerSdp: g711Sdp(session + 1, 40000 + 2 * Math.floor(r() * 10000)),
    };
  });
}

/** Key order and keys as Kamailio 5.6's rtpengine module sends them (flags "replace-origin replace-session-connection ICE=remove"). */
function offerRequest(p: CallPlan): NgDict {
  return { supports: ['load limit'], sdp: p.offerSdp, ICE: 'remove', replace: ['origin', 'session-connection'], 'call-id': p.callId,
    'received-from': ['IP4', '127.0.0.1'], 'from-tag': p.fromTag, command: 'offer' };
}
function answerRequest(p: CallPlan): NgDict {
  return { supports: ['load limit'], sdp: p.answerSdp, ICE: 'remove', replace: ['origin', 'session-connection'], 'call-id': p.callId,
    'received-from': ['IP4', '127.0.0.1'], 'from-tag': p.fromTag, 'to-tag': p.toTag, command: 'answer' };
}
function deleteRequest(p: CallPlan): NgDict {
  return { supports: ['load limit'], 'call-id': p.callId, 'received-from': ['IP4', '127.0.0.1'], 'from-tag': p.fromTag, command: 'delete' };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Timed {
  histogram: LatencyHistogram;
  failures: number;
  firstFailure: string;
}

async function timedRequest(ng: NgControl, dict: NgDict, t: Timed, expect: string): Promise<void> {
  const t0 = performance.now();
  try {
    const reply = await ng.request(dict);
    t.histogram.record((performance.now() - t0) * 1000);
    if (reply['result'] !== expect) {
      t.failures++;
      t.firstFailure ||= `${String(dict['command'])}: ${JSON.stringify(reply).slice(0, 200)}`;
    }
  } catch (e) {
    t.failures++;
    t.firstFailure ||= (e as Error).message;
  }
}

interface Result {
  relay: string;
  calls: number;
  /** Calls set up and deleted before the measured ones. */
  warmupCalls: number;
  parallel: number;
  churnSeconds: number;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  firstFailure: string;
  cpuSecondsChurn: number;
  pingsPerSecond: number;
  pingP99Ms: number;
  rssBaselineMb: number;
  rssAfterChurnMb: number;
  rssChurnSettledMb: number;
  rssAfterFloodMb: number;
  rssFloodSettledMb: number;
  rssPeakMb: number;
  loadAverage: string;
}

/** Sets up and deletes every call, `parallel` at a time. */
async function churn(relay: RelayProcess, calls: CallPlan[], parallel: number, t: Timed): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, calls.length) }, async () => {
    while (next < calls.length) {
      const p = calls[next++]!;
      await timedRequest(relay.ng, offerRequest(p), t, 'ok');
      await timedRequest(relay.ng, answerRequest(p), t, 'ok');
      await timedRequest(relay.ng, deleteRequest(p), t, 'ok');
    }
  }));
}

async function measure(relay: RelayProcess, calls: CallPlan[], warmup: CallPlan[], parallel: number, floodS: number, settleS: number): Promise<Result> {
  const load = loadAverage();
  await sleep(2000);
  const rssBaselineMb = rssMb(relay.pid);
  const t: Timed = { histogram: new LatencyHistogram(), failures: 0, firstFailure: '' };
  if (warmup.length > 0) {
    const w: Timed = { histogram: new LatencyHistogram(), failures: 0, firstFailure: '' };
    const w0 = performance.now();
    await churn(relay, warmup, parallel, w);
    process.stdout.write(`  warm-up: ${warmup.length} calls at ${(warmup.length / ((performance.now() - w0) / 1000)).toFixed(0)} calls/s, ${w.failures} failed\n`);
    await sleep(2000);
  }
  const cpu0 = processCpuSeconds(relay.pid);
  const t0 = performance.now();
  await churn(relay, calls, parallel, t);
  const churnSeconds = (performance.now() - t0) / 1000;
  const cpuSecondsChurn = processCpuSeconds(relay.pid) - cpu0;
  const rssAfterChurnMb = rssMb(relay.pid);
  process.stdout.write(`  churn: ${(calls.length / churnSeconds).toFixed(0)} calls/s, RSS ${rssBaselineMb.toFixed(1)} -> ${rssAfterChurnMb.toFixed(1)} MB; settling ${settleS} s\n`);
  await sleep(settleS * 1000);
  const rssChurnSettledMb = rssMb(relay.pid);

  const ping: Timed = { histogram: new LatencyHistogram(), failures: 0, firstFailure: '' };
  let pings = 0;
  const floodEnd = performance.now() + floodS * 1000;
  await Promise.all(Array.from({ length: floodS > 0 ? parallel : 0 }, async () => {
    while (performance.now() < floodEnd) {
      await timedRequest(relay.ng, { command: 'ping' }, ping, 'pong');
      pings++;
    }
  }));
  const rssAfterFloodMb = rssMb(relay.pid);
  process.stdout.write(`  flood: ${(pings / Math.max(floodS, 1e-9)).toFixed(0)} pings/s, RSS ${rssAfterFloodMb.toFixed(1)} MB; settling ${settleS} s\n`);
  await sleep(settleS * 1000);
  const rssFloodSettledMb = rssMb(relay.pid);
  return {
    relay: relay.name,
    calls: calls.length,
    warmupCalls: warmup.length,
    parallel,
    churnSeconds,
    callsPerSecond: calls.length / churnSeconds,
    p50Ms: t.histogram.percentile(0.5) / 1000,
    p99Ms: t.histogram.percentile(0.99) / 1000,
    failures: t.failures + ping.failures,
    firstFailure: t.firstFailure || ping.firstFailure,
    cpuSecondsChurn,
    pingsPerSecond: floodS > 0 ? pings / floodS : 0,
    pingP99Ms: ping.histogram.percentile(0.99) / 1000,
    rssBaselineMb,
    rssAfterChurnMb,
    rssChurnSettledMb,
    rssAfterFloodMb,
    rssFloodSettledMb,
    rssPeakMb: peakRssMb(relay.pid),
    loadAverage: load,
  };
}

function table(results: Result[], settleS: number): string {
  const head = ['relay', 'calls/s', 'NG p50 ms', 'NG p99 ms', 'failed', 'CPU s (churn)', 'pings/s', 'ping p99 ms', 'RSS MB baseline',
    'after churn', `+${settleS} s`, 'after flood', `+${settleS} s`, 'peak', 'load avg'];
  const rows = results.map((r) => [r.relay, r.callsPerSecond.toFixed(0), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), r.failures,
    r.cpuSecondsChurn.toFixed(1), r.pingsPerSecond.toFixed(0), r.pingP99Ms.toFixed(2), r.rssBaselineMb.toFixed(1),
    r.rssAfterChurnMb.toFixed(1), r.rssChurnSettledMb.toFixed(1), r.rssAfterFloodMb.toFixed(1), r.rssFloodSettledMb.toFixed(1),
    r.rssPeakMb.toFixed(1), r.loadAverage]);
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(os.tmpdir(), 'ng-churn-'));
  const kinds = opt.relays.split(',').filter((s) => s !== '') as RelayKind[];
  for (const k of kinds) if (k !== 'ngrelay' && k !== 'rtpengine') throw new Error(`unknown relay '${k}'`);
  const n = num(opt.calls);
  const parallel = Math.max(1, num(opt.parallel));
  const settleS = num(opt.settle);
  const floodS = num(opt.flood);
  const deleteDelay = opt['delete-delay'] === '' ? [] : [`--delete-delay=${num(opt['delete-delay'])}`];
  process.stdout.write(`${new Date().toISOString()} machine: ${os.availableParallelism()} CPUs, ${cpuModel()}, node ${process.version}; load average ${loadAverage()}\n`);
  const warmup = num(opt.warmup);
  // Other call-ids than the measured calls' (the seed moved on by a prime).
  const warmupPlans = (): CallPlan[] => plans(warmup, num(opt.rng) + 7919);
  process.stdout.write(`${n} calls${warmup > 0 ? ` after ${warmup} not counted` : ''}, ${parallel} in parallel, rng ${opt.rng}; relay logs in ${logDir}\n`);
  const results: Result[] = [];
  for (const kind of kinds) {
    // Same call-ids for every relay: each starts afresh.
    const calls = plans(n, num(opt.rng));
    const relay = await RelayProcess.launch({
      kind,
      ngPort: await freePort(),
      cliPort: await freePort(),
      portMin: num(opt['port-min']),
      portMax: num(opt['port-max']),
      extraArgs: [...deleteDelay, ...(kind === 'ngrelay' ? opt['ngrelay-arg'] : opt['rtpengine-arg'])],
      logFile: logPath(logDir, kind),
      binary: opt['ngrelay-bin'],
    });
    try {
      process.stdout.write(`${kind} (pid ${relay.pid}): ${relay.command.join(' ')}\n`);
      const r = await measure(relay, calls, warmupPlans(), parallel, floodS, settleS);
      results.push(r);
      process.stdout.write(`${table([r], settleS).split('\n')[2]}\n`);
      if (r.failures > 0) process.stdout.write(`  ${r.failures} failed requests, first: ${r.firstFailure}\n`);
    } finally {
      await relay.stop();
    }
  }
  if (opt.target !== undefined) {
    const [host, port] = opt.target.split(':');
    if (opt.pid === undefined) throw new Error('--target needs --pid (the relay process whose memory is read)');
    const relay = RelayProcess.attach('external', host!, num(port!), num(opt.pid));
    try {
      await relay.ng.waitPong(5000);
      results.push(await measure(relay, plans(n, num(opt.rng)), warmupPlans(), parallel, floodS, settleS));
    } finally {
      relay.ng.close();
    }
  }
  process.stdout.write(`\n${table(results, settleS)}\n`);
  const ng = results.find((r) => r.relay === 'ngrelay');
  const rt = results.find((r) => r.relay === 'rtpengine');
  if (ng && rt) {
    process.stdout.write(`\nngrelay/rtpengine setup rate = ${(ng.callsPerSecond / rt.callsPerSecond).toFixed(2)}, ` +
      `p99 ${ng.p99Ms.toFixed(2)} vs ${rt.p99Ms.toFixed(2)} ms; ngrelay RSS after churn and settle = ` +
      `${((100 * ng.rssChurnSettledMb) / ng.rssBaselineMb).toFixed(0)} % of baseline, after flood and settle ` +
      `${((100 * ng.rssFloodSettledMb) / ng.rssBaselineMb).toFixed(0)} %\n`);
  }
  if (opt.json !== undefined) writeFileSync(opt.json, JSON.stringify({ cpu: cpuModel(), cpus: os.availableParallelism(), results }, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`ng-churn: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
