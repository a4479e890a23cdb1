#!/usr/bin/env node
/**
 * Balancer benchmark: NG calls (offer + answer + delete, as Kamailio sends them) against one
 * ngrelay directly and through ngrelay-balancer in front of it, in alternating rounds of the
 * same run. Reports calls/s, commands/s, latency p50/p99 per command both ways, the latency
 * the balancer adds, and the balancer's CPU per command. See docs/performance.md.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LatencyHistogram } from './LatencyHistogram.js';
import { NgControl } from './NgControl.js';
import { cpuModel, processCpuSeconds } from './procCpu.js';
import { logPath, RelayProcess } from './RelayProcess.js';

const BALANCER = resolve(import.meta.dirname, '../src/bin/ngrelay-balancer.js');

const { values: opt } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    'port-min': { type: 'string', default: '20000' },
    'port-max': { type: 'string', default: '29999' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  process.stdout.write(`usage: node dist/bench/balancer-bench.js [options]
  --calls=2000        calls per round and path (each: offer, answer, delete)
  --concurrency=4     calls in flight at once
  --rounds=3          rounds; each runs direct and balanced, alternating which goes first
  --port-min --port-max   relay media port range
  --json              print the result as JSON
`);
  process.exit(0);
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
  });
}

const SDP = (ip: string, port: number): string =>
  ['v=0', `o=- 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');

interface PathResult {
  calls: number;
  seconds: number;
  latency: LatencyHistogram;
}

let callSeq = 0;

/** `calls` calls with `concurrency` in flight; every request's round trip recorded. */
async function run(c: NgControl, calls: number, concurrency: number): Promise<PathResult> {
  const latency = new LatencyHistogram();
  const timed = async (d: Record<string, unknown>): Promise<void> => {
    const t = process.hrtime.bigint();
    const r = await c.request(d);
    latency.record(Number(process.hrtime.bigint() - t) / 1000);
    if (r['result'] !== 'ok') throw new Error(`${String(d['command'])}: ${JSON.stringify(r)}`);
  };
  let left = calls;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) {
      const id = `bench-${process.pid}-${++callSeq}`;
      const common = { 'call-id': id, 'from-tag': 'a', replace: ['origin', 'session-connection'], ICE: 'remove', supports: ['load limit'] };
      await timed({ ...common, command: 'offer', sdp: SDP('127.0.0.2', 40000) });
      await timed({ ...common, command: 'answer', 'to-tag': 'b', sdp: SDP('127.0.0.3', 40002) });
      await timed({ command: 'delete', 'call-id': id, 'from-tag': 'a' });
    }
  }));
  return { calls, seconds: Number(process.hrtime.bigint() - started) / 1e9, latency };
}

const dir = mkdtempSync(join(os.tmpdir(), 'ngrelay-balancer-bench-'));
const calls = Number(opt.calls);
const concurrency = Number(opt.concurrency);
const rounds = Number(opt.rounds);
const relay = await RelayProcess.launch({
  kind: 'ngrelay', ngPort: await freePort(), cliPort: await freePort(), portMin: Number(opt['port-min']), portMax: Number(opt['port-max']),
  extraArgs: ['--delete-delay=0', '--log-level=4'], logFile: logPath(dir, 'ngrelay'),
});
const balNg = await freePort();
const balLog = openSync(logPath(dir, 'balancer'), 'w');
const balancer = spawn(BALANCER, ['--config-file=none', `--listen-ng=127.0.0.1:${balNg}`, `--listen-cli=127.0.0.1:${await freePort()}`,
  `--member=name=r1,address=127.0.0.1:${relay.ngPort},weight=1,capacity=100000`, '--log-level=4', '--foreground'], { stdio: ['ignore', balLog, balLog] });
closeSync(balLog);
try {
  const direct = new NgControl('127.0.0.1', relay.ngPort);
  const balanced = new NgControl('127.0.0.1', balNg);
  await balanced.waitPong(15_000);
  // Warm-up: JIT and caches on both paths.
  await run(direct, 300, concurrency);
  await run(balanced, 300, concurrency);
  const total = { direct: { calls: 0, seconds: 0, latency: new LatencyHistogram() }, balanced: { calls: 0, seconds: 0, latency: new LatencyHistogram() } };
  let balancerCpu = 0;
  for (let i = 0; i < rounds; i++) {
    for (const path of i % 2 === 0 ? (['direct', 'balanced'] as const) : (['balanced', 'direct'] as const)) {
      const cpu0 = path === 'balanced' ? processCpuSeconds(balancer.pid!) : 0;
      const r = await run(path === 'direct' ? direct : balanced, calls, concurrency);
      if (path === 'balanced') balancerCpu += processCpuSeconds(balancer.pid!) - cpu0;
      total[path].calls += r.calls;
      total[path].seconds += r.seconds;
      total[path].latency.merge(r.latency);
    }
  }
  const row = (p: typeof total.direct): { callsPerS: number; commandsPerS: number; p50Us: number; p99Us: number } => ({
    callsPerS: Math.round(p.calls / p.seconds),
    commandsPerS: Math.round((3 * p.calls) / p.seconds),
    p50Us: p.latency.percentile(0.5),
    p99Us: p.latency.percentile(0.99),
  });
  const d = row(total.direct);
  const b = row(total.balanced);
  const commands = 3 * total.balanced.calls;
  const result = {
    machine: `${cpuModel()}, ${os.availableParallelism()} CPUs`,
    calls, concurrency, rounds,
    direct: d,
    balanced: b,
    addedP50Us: b.p50Us - d.p50Us,
    addedP99Us: b.p99Us - d.p99Us,
    balancerCpuUsPerCommand: Math.round((balancerCpu / commands) * 1e6),
    balancerCommandsPerCpuSecond: Math.round(commands / balancerCpu),
  };
  if (opt.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    process.stdout.write(`machine: ${result.machine}\n${rounds} rounds x ${calls} calls (offer+answer+delete), ${concurrency} in flight\n`);
    process.stdout.write('path       calls/s  commands/s  p50 (us)  p99 (us)\n');
    for (const [name, r] of [['direct', d], ['balanced', b]] as const) {
      process.stdout.write(`${name.padEnd(9)} ${String(r.callsPerS).padStart(8)} ${String(r.commandsPerS).padStart(11)} ${String(r.p50Us).padStart(9)} ${String(r.p99Us).padStart(9)}\n`);
    }
    process.stdout.write(`balancer adds: p50 ${result.addedP50Us} us, p99 ${result.addedP99Us} us\n`);
    process.stdout.write(`balancer CPU: ${result.balancerCpuUsPerCommand} us per command = ${result.balancerCommandsPerCpuSecond} commands per CPU-second\n`);
  }
  direct.close();
  balanced.close();
} finally {
  if (balancer.exitCode === null) process.kill(balancer.pid!, 'SIGTERM');
  await relay.stop();
}
