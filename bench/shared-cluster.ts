// Shared-mode benchmark (docs/performance.md): NG latency at the owner vs through a non-owner,
// calls/s of 5 nodes vs 1, memory per node with 10,000 cluster calls.
// Run: npm run build && node dist/bench/shared-cluster.js   (needs redis-server and 'ulimit -n' of 10,000 or more)
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import bencode from 'bencode';

const NGRELAY = resolve(import.meta.dirname, '../src/bin/ngrelay.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const procs: ChildProcess[] = [];

async function freePort(host: string): Promise<number> {
  return new Promise((r) => {
    const s = net.createServer().listen(0, host, () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => r(p));
    });
  });
}

const sdp = (port: number): string => `v=0\r\no=b 1 1 IN IP4 10.9.0.1\r\ns=-\r\nc=IN IP4 10.9.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=sendrecv\r\n`;

class Client {
  private readonly sock = dgram.createSocket('udp4');
  private readonly pending = new Map<string, (r: string) => void>();
  private seq = 0;
  private static instances = 0;
  /** Cookies differ between clients: a relay's cookie cache must never answer one with another's reply. */
  private readonly prefix = `c${++Client.instances}-`;
  constructor() {
    this.sock.on('message', (m) => {
      const sp = m.indexOf(0x20);
      this.pending.get(m.subarray(0, sp).toString())?.(m.subarray(sp + 1).toString());
    });
  }
  request(port: number, host: string, d: Record<string, unknown>): Promise<string> {
    const cookie = `${this.prefix}${++this.seq}`;
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('timeout')), 5000);
      this.pending.set(cookie, (r) => {
        clearTimeout(t);
        this.pending.delete(cookie);
        res(r);
      });
      this.sock.send(Buffer.concat([Buffer.from(cookie + ' '), Buffer.from(bencode.encode(d))]), port, host);
    });
  }
  close(): void {
    this.sock.close();
  }
}

interface Node {
  host: string;
  port: number;
  proc: ChildProcess;
}

async function startNode(i: number, redisPort: number): Promise<Node> {
  const host = `127.0.5.${i}`;
  const port = await freePort(host);
  const cli = await freePort(host);
  const proc = spawn(NGRELAY, ['--config-file=none', `--interface=pub/${host}`, `--listen-ng=${host}:${port}`,
    `--listen-cli=${host}:${cli}`, '--table=-1', '--cluster-mode=shared', `--redis=127.0.0.1:${redisPort}/0`, `--node-id=bench-${i}`, '--delete-delay=0',
    '--port-min=20000', '--port-max=29999', '--log-level=4', '--log-stderr'], { stdio: 'ignore' });
  procs.push(proc);
  const c = new Client();
  for (let k = 0; k < 100; k++) {
    try {
      if ((await c.request(port, host, { command: 'ping' })).includes('pong')) break;
    } catch {
      /* starting */
    }
    await sleep(100);
  }
  c.close();
  return { host, port, proc };
}

function pct(a: number[], p: number): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

interface Churn {
  callsPerSecond: number;
  /** CPU of every node and of Redis per call, in ms. */
  cpuPerCall: number;
}

/**
 * Offer, answer, delete with `concurrency` calls in flight for `seconds`. `spread`: every
 * command to a random node (what an L4 balancer does); else answer and delete go to the node
 * that got the offer (what a call-aware proxy does: it owns the call, nothing is forwarded).
 */
async function churn(nodes: Node[], redisPid: number, seconds: number, concurrency: number, spread: boolean): Promise<Churn> {
  const c = new Client();
  const pids = [...nodes.map((n) => n.proc.pid!), redisPid];
  const cpu0 = pids.reduce((a, p) => a + cpuSeconds(p), 0);
  let done = 0;
  let id = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      const callId = `cps-${nodes.length}-${spread}-${++id}`;
      const pick = (): Node => nodes[Math.floor(Math.random() * nodes.length)]!;
      const first = pick();
      await c.request(first.port, first.host, { command: 'offer', 'call-id': callId, 'from-tag': 'f', sdp: sdp(4000) });
      let n = spread ? pick() : first;
      await c.request(n.port, n.host, { command: 'answer', 'call-id': callId, 'from-tag': 'f', 'to-tag': 't', sdp: sdp(5000) });
      n = spread ? pick() : first;
      await c.request(n.port, n.host, { command: 'delete', 'call-id': callId, 'from-tag': 'f' });
      done++;
    }
  }));
  c.close();
  const cpu = pids.reduce((a, p) => a + cpuSeconds(p), 0) - cpu0;
  return { callsPerSecond: done / seconds, cpuPerCall: (cpu / done) * 1000 };
}

async function main(): Promise<void> {
  const redisPort = await freePort('127.0.0.1');
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--dir', mkdtempSync(join(tmpdir(), 'shb-'))], { stdio: 'ignore' });
  procs.push(redis);
  await sleep(500);
  const nodes: Node[] = [];
  for (let i = 1; i <= 5; i++) nodes.push(await startNode(i, redisPort));
  await sleep(1500);
  const c = new Client();
  const [owner, other] = [nodes[0]!, nodes[1]!];
  await c.request(owner.port, owner.host, { command: 'offer', 'call-id': 'lat', 'from-tag': 'f', sdp: sdp(4000) });
  for (const [name, n] of [['owner', owner], ['non-owner (one forward)', other]] as const) {
    const t: number[] = [];
    for (let k = 0; k < 3000; k++) {
      const t0 = process.hrtime.bigint();
      await c.request(n.port, n.host, { command: 'query', 'call-id': 'lat' });
      t.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    console.log(`query at ${name}: p50 ${pct(t, 50).toFixed(3)} ms, p99 ${pct(t, 99).toFixed(3)} ms (3000 sequential)`);
  }
  const one = await churn([owner], redis.pid!, 5, 32, false);
  const sticky = await churn(nodes, redis.pid!, 5, 32, false);
  const spread = await churn(nodes, redis.pid!, 5, 32, true);
  const row = (name: string, r: Churn): string => `${name}: ${r.callsPerSecond.toFixed(0)} calls/s (x${(r.callsPerSecond / one.callsPerSecond).toFixed(2)}), ${r.cpuPerCall.toFixed(2)} ms CPU per call (nodes + Redis)`;
  console.log('offer + answer + delete, 32 calls in flight, 5 s each:');
  console.log(row('  1 node', one));
  console.log(row('  5 nodes, each call on the node its offer reached', sticky));
  console.log(row('  5 nodes, every command on a random node', spread));
  const rss = (n: Node): number => {
    // prlimit execs node: the pid is node's.
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${n.proc.pid}/status`, 'utf8'));
    return Number(m?.[1] ?? 0) / 1024;
  };
  const before = nodes.map(rss);
  let id = 0;
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (id < 10_000) {
      const k = id++;
      const n = nodes[k % 5]!;
      await c.request(n.port, n.host, { command: 'offer', 'call-id': `mem-${k}`, 'from-tag': 'f', sdp: sdp(4000) });
    }
  }));
  await sleep(2000);
  const after = nodes.map(rss);
  console.log(`memory with 10,000 cluster calls (2,000 own per node): RSS per node ${after.map((x) => x.toFixed(0)).join(', ')} MiB (idle ${before.map((x) => x.toFixed(0)).join(', ')} MiB)`);
  c.close();
}

main()
  .catch((e) => console.error(e))
  .finally(() => {
    for (const p of procs) p.kill('SIGKILL');
    process.exit(0);
  });
