#!/usr/bin/env node
/**
 * Cluster cost benchmark (docs/scale-out.md, docs/performance.md): what one call costs, and where,
 * in each way of running relays, in one run on one machine:
 *
 * - rtpengine alone and ngrelay alone (no Redis);
 * - static clustering: two ngrelay nodes, each writing its own DB and subscribing to the other's;
 * - shared keyspace (`cluster-mode = shared`) with 1, 5, 20 ... nodes on one Redis (or on a Redis
 *   Cluster with `--shards=3`), calls sticky to the node their offer reached, or every command on
 *   a random node (a dumb L4 balancer).
 *
 * CPU is read per process from /proc (relays) and from Redis's `INFO cpu`, so other work on the
 * machine does not hide the cost per call. Redis commands come from `INFO commandstats`, round
 * trips from `INFO stats` `total_reads_processed` (one read event per request batch a client
 * sends), bytes from `total_net_input_bytes`. A sequential phase gives commands and round trips
 * per NG command (at the owner, through a non-owner, a takeover); an idle phase the heartbeat
 * traffic per node.
 *
 * Run: npm run build && nice -n -20 node dist/bench/cluster-cost.js [--nodes=1,5,20] [--calls=2000]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { NgControl } from './NgControl.js';
import { num } from './options.js';
import { rng } from './seeded.js';
import { cpuModel, loadAverage, processCpuSeconds } from './procCpu.js';
import { freePort, logPath, RelayProcess } from './RelayProcess.js';

const { values: opt } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1,5,20' },
    calls: { type: 'string', default: '2000' },
    parallel: { type: 'string', default: '16' },
    sequential: { type: 'string', default: '100' },
    warm: { type: 'string', default: '500' },
    shards: { type: 'string', default: '0' },
    modes: { type: 'string', default: 'rtpengine,standalone,static,shared' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  process.stdout.write(`usage: nice -n -20 node dist/bench/cluster-cost.js [options]
  --modes=rtpengine,standalone,static,shared   what to run
  --nodes=1,5,20     shared-mode cluster sizes (one Redis, or the Redis Cluster of --shards)
  --calls=2000       calls per churn (offer, answer, delete)
  --parallel=16      calls in flight
  --sequential=100   NG commands per kind in the sequential phase (commands and round trips each)
  --warm=500         calls per relay before it is measured (a cold Node.js process costs several times more per call)
  --shards=0         0: one redis-server; N: a Redis Cluster of N masters for shared mode
`);
  process.exit(0);
}

const CALLS = num(opt.calls);
const PARALLEL = num(opt.parallel);
const SEQ = num(opt.sequential);
const WARM = num(opt.warm);
const SHARDS = num(opt.shards);
const dir = mkdtempSync(join(os.tmpdir(), 'cluster-cost-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const started: ChildProcess[] = [];
/** Relays this run started, killed by PID if the run fails half-way. */
const relaysStarted: RelayProcess[] = [];

const SDP = (ip: string, port: number): string =>
  ['v=0', `o=- 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');


// ---------------------------------------------------------------------------------------------
// Redis: one server or a Redis Cluster, and what its INFO says.

interface Store {
  /** `--redis=` of a node (DB appended by the caller for one server). */
  address: string;
  engineArgs: string[];
  servers: { port: number; pid: number }[];
  stop(): Promise<void>;
}

async function startRedisServer(extra: string[] = []): Promise<{ port: number; pid: number; proc: ChildProcess }> {
  const port = await freePort();
  const d = mkdtempSync(join(dir, 'redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', d,
    '--notify-keyspace-events', 'KEA', '--protected-mode', 'no', ...extra], { stdio: 'ignore' });
  started.push(proc);
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.includes('PONG')) break;
    await sleep(50);
  }
  return { port, pid: proc.pid!, proc };
}

async function startStore(shards: number): Promise<Store> {
  if (shards === 0) {
    const s = await startRedisServer();
    return { address: `127.0.0.1:${s.port}`, engineArgs: [], servers: [s], stop: async () => void s.proc.kill('SIGKILL') };
  }
  const servers = await Promise.all(Array.from({ length: shards }, () => startRedisServer(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'])));
  const create = spawnSync('redis-cli', ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
  if (create.status !== 0) throw new Error(`redis-cli --cluster create: ${create.stdout}${create.stderr}`);
  for (let i = 0; i < 200; i++) {
    if (servers.every((s) => spawnSync('redis-cli', ['-p', String(s.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout.includes('cluster_state:ok'))) break;
    await sleep(100);
  }
  return {
    address: `127.0.0.1:${servers[0]!.port}`,
    engineArgs: ['--redis-engine=cluster', ...servers.slice(1).map((s) => `--redis-nodes=127.0.0.1:${s.port}`)],
    servers,
    stop: async () => servers.forEach((s) => s.proc.kill('SIGKILL')),
  };
}

interface RedisFigures {
  commands: Map<string, number>;
  cpu: number;
  reads: number;
  inBytes: number;
  outBytes: number;
}

function parseInfo(text: string, into: RedisFigures): void {
  for (const line of text.split('\r\n')) {
    const cmd = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (cmd) {
      into.commands.set(cmd[1]!, (into.commands.get(cmd[1]!) ?? 0) + Number(cmd[2]));
      continue;
    }
    const kv = /^(used_cpu_sys|used_cpu_user|total_reads_processed|total_net_input_bytes|total_net_output_bytes):([\d.]+)/.exec(line);
    if (!kv) continue;
    const v = Number(kv[2]);
    if (kv[1] === 'used_cpu_sys' || kv[1] === 'used_cpu_user') into.cpu += v;
    else if (kv[1] === 'total_reads_processed') into.reads += v;
    else if (kv[1] === 'total_net_input_bytes') into.inBytes += v;
    else into.outBytes += v;
  }
}

class RedisProbe {
  private readonly conns: Redis[];
  constructor(store: Store) {
    this.conns = store.servers.map((s) => new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: false }));
  }
  async read(): Promise<RedisFigures> {
    const f: RedisFigures = { commands: new Map(), cpu: 0, reads: 0, inBytes: 0, outBytes: 0 };
    for (const c of this.conns) parseInfo(await c.info('all'), f);
    return f;
  }
  close(): void {
    for (const c of this.conns) c.disconnect();
  }
}

/** What happened at Redis between two readings, less what the readings themselves caused. */
function redisDelta(a: RedisFigures, b: RedisFigures, servers: number): { commands: number; byCommand: Map<string, number>; cpu: number; reads: number; inBytes: number; outBytes: number } {
  const byCommand = new Map<string, number>();
  let commands = 0;
  for (const [k, v] of b.commands) {
    if (k === 'info') continue;
    const d = v - (a.commands.get(k) ?? 0);
    if (d > 0) {
      byCommand.set(k, d);
      commands += d;
    }
  }
  return { commands, byCommand, cpu: b.cpu - a.cpu, reads: b.reads - a.reads - servers, inBytes: b.inBytes - a.inBytes, outBytes: b.outBytes - a.outBytes };
}

// ---------------------------------------------------------------------------------------------
// Relays.

let portBase = 20000;
function portRange(size: number): [number, number] {
  const r: [number, number] = [portBase, portBase + size - 1];
  portBase += size;
  return r;
}

async function launch(name: string, kind: 'ngrelay' | 'rtpengine', extraArgs: string[], interfaces?: string[], ports = 2000): Promise<RelayProcess> {
  const [portMin, portMax] = portRange(ports);
  const r = await RelayProcess.launch({ kind, ngPort: await freePort(), cliPort: await freePort(), portMin, portMax, extraArgs, logFile: logPath(dir, name), interfaces });
  relaysStarted.push(r);
  return r;
}

const ngArgs = ['--delete-delay=0', '--log-level=4'];

// ---------------------------------------------------------------------------------------------
// Load.

interface Churn {
  calls: number;
  seconds: number;
  /** CPU ms per call: all relays together, and Redis. */
  relayCpu: number;
  redisCpu: number;
  redisCommands: number;
  redisReads: number;
  redisInBytes: number;
  byCommand: Map<string, number>;
}

let callSeq = 0;

/** `calls` calls (offer, answer, delete), `PARALLEL` in flight; `spread`: each command to a random relay, else all to one. */
async function churn(relays: RelayProcess[], store: Store | null, spread: boolean, seed: number, parallel = PARALLEL, calls = CALLS): Promise<Churn> {
  const r = rng(seed);
  const probe = store ? new RedisProbe(store) : null;
  const pids = relays.map((x) => x.pid);
  const r0 = await probe?.read();
  const c0 = pids.map(processCpuSeconds);
  const t0 = performance.now();
  let left = calls;
  const pick = (): RelayProcess => relays[Math.floor(r() * relays.length)]!;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (left > 0) {
      left--;
      const id = `cc-${seed}-${++callSeq}`;
      const first = pick();
      await first.ng.request({ command: 'offer', 'call-id': id, 'from-tag': 'ft', sdp: SDP('10.9.0.1', 4000), 'received-from': ['IP4', '10.9.0.1'] });
      await (spread ? pick() : first).ng.request({ command: 'answer', 'call-id': id, 'from-tag': 'ft', 'to-tag': 'tt', sdp: SDP('10.9.0.2', 5000) });
      await (spread ? pick() : first).ng.request({ command: 'delete', 'call-id': id, 'from-tag': 'ft' });
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = pids.map(processCpuSeconds).reduce((a, v, i) => a + v - c0[i]!, 0);
  const r1 = await probe?.read();
  probe?.close();
  const d = r0 && r1 ? redisDelta(r0, r1, store!.servers.length) : null;
  return {
    calls,
    seconds,
    relayCpu: (cpu / calls) * 1000,
    redisCpu: d ? (d.cpu / calls) * 1000 : 0,
    redisCommands: d ? d.commands / calls : 0,
    redisReads: d ? d.reads / calls : 0,
    redisInBytes: d ? d.inBytes / calls : 0,
    byCommand: d?.byCommand ?? new Map(),
  };
}

/** Commands and round trips (read events) Redis saw per NG command, `n` of them one at a time. */
async function perCommand(store: Store, label: string, n: number, one: (i: number) => Promise<unknown>, idleCmdsPerSec: number, idleReadsPerSec: number): Promise<string> {
  const probe = new RedisProbe(store);
  const a = await probe.read();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await one(i);
  // Write-behind work finishes within a tick or two of the reply: let it land before reading.
  await sleep(50);
  const secs = (performance.now() - t0) / 1000;
  const b = await probe.read();
  probe.close();
  const d = redisDelta(a, b, store.servers.length);
  const cmds = (d.commands - idleCmdsPerSec * secs) / n;
  const reads = (d.reads - idleReadsPerSec * secs) / n;
  const what = [...d.byCommand].filter(([, v]) => v >= n / 2).map(([k, v]) => `${k} ${(v / n).toFixed(1)}`).join(', ');
  return `| ${label} | ${cmds.toFixed(1)} | ${reads.toFixed(1)} | ${(d.inBytes / n).toFixed(0)} | ${what} |`;
}

/** Heartbeat and discovery: what idle nodes cost per node and second. */
async function idle(relays: RelayProcess[], store: Store, seconds: number): Promise<{ cmds: number; reads: number; bytes: number; cpuMs: number }> {
  const probe = new RedisProbe(store);
  const a = await probe.read();
  const c0 = relays.map((x) => processCpuSeconds(x.pid));
  await sleep(seconds * 1000);
  const b = await probe.read();
  probe.close();
  const cpu = relays.reduce((acc, x, i) => acc + processCpuSeconds(x.pid) - c0[i]!, 0);
  const d = redisDelta(a, b, store.servers.length);
  const per = relays.length * seconds;
  return { cmds: d.commands / per, reads: d.reads / per, bytes: (d.inBytes + d.outBytes) / per, cpuMs: (cpu * 1000) / per };
}

function row(name: string, c: Churn, base: number | null): string {
  const ratio = base ? ` (x${(c.relayCpu / base).toFixed(2)})` : '';
  const cmds = c.redisCommands ? `${c.redisCommands.toFixed(1)} | ${c.redisReads.toFixed(1)} | ${c.redisInBytes.toFixed(0)} | ${c.redisCpu.toFixed(3)}` : '– | – | – | –';
  return `| ${name} | ${(c.calls / c.seconds).toFixed(0)} | ${c.relayCpu.toFixed(3)}${ratio} | ${cmds} |`;
}

async function stopAll(relays: RelayProcess[]): Promise<void> {
  await Promise.all(relays.map((r) => r.stop().catch(() => undefined)));
}

async function sharedNodes(store: Store, n: number, prefix: string): Promise<RelayProcess[]> {
  const out: RelayProcess[] = [];
  // A few at a time: twenty Node.js processes starting at once on two CPUs take long to answer.
  for (let i = 0; i < n; i += 4) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(4, n - i) }, (_, k) => {
      const redis = `${store.address}/0`;
      return launch(`${prefix}-${i + k + 1}`, 'ngrelay', [...ngArgs, '--cluster-mode=shared', `--redis=${redis}`, ...store.engineArgs, `--node-id=${prefix}-${i + k + 1}`], undefined, 1000);
    }))));
  }
  return out;
}

async function main(): Promise<void> {
  const modes = new Set(opt.modes.split(','));
  const sizes = opt.nodes.split(',').map(num);
  const lines: string[] = [];
  const out = (s: string): void => {
    lines.push(s);
    console.log(s);
  };
  out(`cluster-cost: ${new Date().toISOString()}, ${cpuModel()}, ${os.cpus().length} CPUs, load average ${loadAverage()} at start`);
  out(`${CALLS} calls per row (offer, answer, delete), ${PARALLEL} in flight; CPU ms per call from /proc (relays) and INFO cpu (Redis)`);
  out('');
  out('| mode | calls/s | relay CPU ms/call | Redis cmds/call | round trips/call | bytes to Redis/call | Redis CPU ms/call |');
  out('|---|---|---|---|---|---|---|');
  let base: number | null = null;
  const seqLines: string[] = [];
  const idleLines: string[] = [];

  if (modes.has('rtpengine')) {
    const r = await launch('rtpengine', 'rtpengine', ['--delete-delay=0', '--log-level=4']);
    await churn([r], null, false, 1, PARALLEL, WARM);
    out(row('rtpengine 10.5, alone', await churn([r], null, false, 2), null));
    await stopAll([r]);
  }
  // A node of N sees 1/N of the load: its CPU per call is compared with a relay alone at that load.
  const baseAt = new Map<number, number>();
  const perNode = (n: number): number => Math.max(1, Math.round(PARALLEL / n));
  if (modes.has('standalone')) {
    const r = await launch('ngrelay', 'ngrelay', ngArgs);
    await churn([r], null, false, 1, PARALLEL, WARM);
    for (const p of [...new Set([PARALLEL, ...sizes.map(perNode)])].sort((a, b) => b - a)) {
      const c = await churn([r], null, false, 2 + p, p);
      baseAt.set(p, c.relayCpu);
      if (p === PARALLEL) base = c.relayCpu;
      out(row(`ngrelay alone${p === PARALLEL ? '' : `, ${p} in flight`}`, c, null));
    }
    await stopAll([r]);
  }
  if (modes.has('static')) {
    const store = await startStore(0);
    // Two relays on one host: each holds the other's calls as foreign copies on another address of the same interface name.
    const a = await launch('static-a', 'ngrelay', [...ngArgs, `--redis=${store.address}/1`, '--subscribe-keyspace=2'], ['pub1/127.0.0.1', 'pub2/127.0.0.4']);
    const b = await launch('static-b', 'ngrelay', [...ngArgs, `--redis=${store.address}/2`, '--subscribe-keyspace=1'], ['pub2/127.0.0.2', 'pub1/127.0.0.3']);
    await churn([a], store, false, 1, PARALLEL, WARM);
    const c = await churn([a], store, false, 3);
    out(row('static: owner (its standby subscribes; relay CPU = owner only)', c, base));
    const both = await churn([a, b], store, false, 4);
    out(row('static: 2 nodes, each the other\'s standby (relay CPU = both)', both, base));
    seqLines.push(await perCommand(store, 'static: offer at the owner', SEQ, (i) => a.ng.request({ command: 'offer', 'call-id': `sq-st-${i}`, 'from-tag': 'ft', sdp: SDP('10.9.0.1', 4000) }), 0, 0));
    seqLines.push(await perCommand(store, 'static: answer at the owner', SEQ, (i) => a.ng.request({ command: 'answer', 'call-id': `sq-st-${i}`, 'from-tag': 'ft', 'to-tag': 'tt', sdp: SDP('10.9.0.2', 5000) }), 0, 0));
    seqLines.push(await perCommand(store, 'static: delete at the owner', SEQ, (i) => a.ng.request({ command: 'delete', 'call-id': `sq-st-${i}`, 'from-tag': 'ft' }), 0, 0));
    await stopAll([a, b]);
    await store.stop();
  }
  if (modes.has('shared')) {
    const store = await startStore(SHARDS);
    const topo = SHARDS > 0 ? `Redis Cluster of ${SHARDS}` : 'one Redis';
    let nodes: RelayProcess[] = [];
    let warmed = 0;
    for (const n of sizes) {
      nodes.push(...(await sharedNodes(store, n - nodes.length, `n${n}`)));
      await sleep(1500);
      const quiet = await idle(nodes, store, 3);
      idleLines.push(`| ${n} | ${quiet.cmds.toFixed(2)} | ${quiet.reads.toFixed(2)} | ${quiet.bytes.toFixed(0)} | ${quiet.cpuMs.toFixed(2)} |`);
      // Every node warmed as the relay alone was.
      await churn(nodes.slice(warmed), store, false, 1, PARALLEL, WARM * (n - warmed));
      warmed = n;
      const b = baseAt.get(perNode(n)) ?? base;
      const vs = n > 1 ? ` (ratio: to a relay alone at ${perNode(n)} in flight)` : '';
      out(row(`shared, ${n} node${n > 1 ? 's' : ''} on ${topo}, sticky${vs}`, await churn(nodes, store, false, 5 + n), b));
      if (n > 1) out(row(`shared, ${n} nodes on ${topo}, each command to a random node${vs}`, await churn(nodes, store, true, 6 + n), b));
      // What being one of n costs a node: all calls on one node (its CPU), the others idle in the directory.
      if (n > 1) out(row(`shared, ${n} nodes on ${topo}, all calls on one of them (its CPU)`, await churn([nodes[0]!], store, false, 7 + n), base));
      if (n >= 3 && seqLines.length < 12) {
        const [o, f] = [nodes[0]!, nodes[1]!];
        const ic = quiet.cmds * nodes.length;
        const ir = quiet.reads * nodes.length;
        const call = (p: string, i: number): string => `sq-${n}-${p}-${i}`;
        seqLines.push(await perCommand(store, `shared ${n}: offer of a new call`, SEQ, (i) => o.ng.request({ command: 'offer', 'call-id': call('a', i), 'from-tag': 'ft', sdp: SDP('10.9.0.1', 4000) }), ic, ir));
        for (let i = 0; i < SEQ; i++) await o.ng.request({ command: 'offer', 'call-id': call('b', i), 'from-tag': 'ft', sdp: SDP('10.9.0.1', 4000) });
        seqLines.push(await perCommand(store, `shared ${n}: answer at the owner`, SEQ, (i) => o.ng.request({ command: 'answer', 'call-id': call('a', i), 'from-tag': 'ft', 'to-tag': 'tt', sdp: SDP('10.9.0.2', 5000) }), ic, ir));
        seqLines.push(await perCommand(store, `shared ${n}: answer through a non-owner`, SEQ, (i) => f.ng.request({ command: 'answer', 'call-id': call('b', i), 'from-tag': 'ft', 'to-tag': 'tt', sdp: SDP('10.9.0.2', 5000) }), ic, ir));
        seqLines.push(await perCommand(store, `shared ${n}: delete at the owner`, SEQ, (i) => o.ng.request({ command: 'delete', 'call-id': call('a', i), 'from-tag': 'ft' }), ic, ir));
        seqLines.push(await perCommand(store, `shared ${n}: delete through a non-owner`, SEQ, (i) => f.ng.request({ command: 'delete', 'call-id': call('b', i), 'from-tag': 'ft' }), ic, ir));
        // A takeover: the owner dies (SIGKILL); once its lease expired, a re-INVITE's offer moves each call.
        const [victim] = await sharedNodes(store, 1, `victim${n}`);
        for (let i = 0; i < SEQ; i++) await victim!.ng.request({ command: 'offer', 'call-id': call('v', i), 'from-tag': 'ft', sdp: SDP('10.9.0.1', 4000) });
        process.kill(victim!.pid, 'SIGKILL');
        await sleep(4000);
        seqLines.push(await perCommand(store, `shared ${n}: offer taking over a dead node's call`, SEQ, (i) => o.ng.request({ command: 'offer', 'call-id': call('v', i), 'from-tag': 'ft', sdp: SDP('10.9.0.1', 4002) }), ic, ir));
        for (let i = 0; i < SEQ; i++) await o.ng.request({ command: 'delete', 'call-id': call('v', i), 'from-tag': 'ft' });
      }
    }
    await stopAll(nodes);
    nodes = [];
    await store.stop();
  }
  if (seqLines.length > 0) {
    out('');
    out(`One NG command at a time (${SEQ} each; heartbeat traffic subtracted):`);
    out('');
    out('| NG command | Redis cmds | round trips | bytes to Redis | commands |');
    out('|---|---|---|---|---|');
    for (const l of seqLines) out(l);
  }
  if (idleLines.length > 0) {
    out('');
    out('Idle shared-mode nodes (heartbeat and discovery), per node and second:');
    out('');
    out('| nodes | Redis cmds | round trips | bytes (both ways) | node CPU ms |');
    out('|---|---|---|---|---|');
    for (const l of idleLines) out(l);
  }
  out('');
  out(`load average ${loadAverage()} at the end`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const p of started) if (p.exitCode === null) p.kill('SIGKILL');
    for (const r of relaysStarted) {
      if (!r.running) continue;
      try {
        process.kill(r.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    setTimeout(() => process.exit(), 200);
  });
