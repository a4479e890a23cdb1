#!/usr/bin/env node
/**
 * SIP load benchmark with real clients: SIPp as caller and callee, through an unmodified Kamailio
 * (test/fixtures/kamailio.cfg) whose rtpengine module drives the relay, G.711 RTP both ways on
 * every call (SIPp's pcap play on both sides). Runs each relay in turn, on loopback, and reports
 * calls ok/failed, INVITE→200 and BYE→200 percentiles, SIP retransmissions, RTP relayed vs
 * expected, and the relay's CPU and memory. See docs/performance.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kamailio } from '../test/helpers/Kamailio.js';
import { freePort } from '../test/helpers/ports.js';
import { cpuModel, loadAverage, peakRssMb, processCpuSeconds, rssMb } from './procCpu.js';
import { cliCommand, logPath, RelayProcess, type RelayKind } from './RelayProcess.js';
import { G711_PCAP, G711_PCAP_PACKETS, playsPerCall, uacScenario, uasScenario } from './sipScenarios.js';
import { num } from './options.js';

const { values: opt } = parseArgs({
  options: {
    relays: { type: 'string', default: 'rtpengine,ngrelay' },
    rate: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '400' },
    calls: { type: 'string' },
    duration: { type: 'string' },
    'kamailio-children': { type: 'string', default: '2' },
    'port-min': { type: 'string', default: '20000' },
    'port-max': { type: 'string', default: '29999' },
    'ngrelay-arg': { type: 'string', multiple: true, default: [] },
    'rtpengine-arg': { type: 'string', multiple: true, default: [] },
    pause: { type: 'string', default: '5' },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench:sip -- [options]
  --relays=rtpengine,ngrelay  relays to run, one after the other (loopback only); also
                              ngrelay-kernel (ngrelay with --table=0, the kernel fast path)
  --rate=20                   calls per second placed by the SIPp caller
  --concurrency=400           most calls up at once (SIPp -l)
  --calls=N                   calls placed in all (default: 60 s worth, rate × 60)
  --duration=S                seconds from ACK to BYE (default: concurrency / rate − 0.5)
  --kamailio-children=2       Kamailio UDP worker processes (-n)
  --ngrelay-arg=ARG --rtpengine-arg=ARG   extra relay options (repeatable)
  --port-min --port-max       relay media port range
  --pause=5                   seconds between relays (lets the machine settle)
  --json=FILE                 also write the results as JSON
Needs: sipp (apt-get install sip-tester), kamailio, rtpengine-daemon; root (SIPp plays pcaps with raw sockets).
`);
  process.exit(0);
}


const rate = num(opt.rate);
const concurrency = num(opt.concurrency);
const totalCalls = opt.calls !== undefined ? num(opt.calls) : Math.round(rate * 60);
const holdSeconds = opt.duration !== undefined ? num(opt.duration) : Math.max(1, concurrency / rate - 0.5);
const plays = playsPerCall({ holdSeconds });
/** SIPp's per-call media ports ([auto_media_port]: base + 4 × call, wrapping at 10,000) stay clear of the relay's range. */
const UAC_MEDIA_BASE = 10000;
const UAS_MEDIA_BASE = 30000;
const SIPP_SOCKET_BUFFER = 4 * 1024 * 1024;
/** The Kamailio tests' configuration, unmodified (this file runs as dist/bench/sip-load.js). */
const KAMAILIO_CFG = resolve(import.meta.dirname, '../../test/fixtures/kamailio.cfg');

interface Result {
  relay: string;
  command: string;
  rate: number;
  concurrency: number;
  holdSeconds: number;
  callsPlaced: number;
  callsOk: number;
  callsFailed: number;
  inviteP50Ms: number;
  inviteP95Ms: number;
  inviteP99Ms: number;
  inviteMaxMs: number;
  byeP50Ms: number;
  byeP95Ms: number;
  byeP99Ms: number;
  /** Retransmissions sent: INVITEs and BYEs by the caller, 200s by the callee (SIPp's -trace_counts). */
  retransInvite: number;
  retransOk: number;
  retransBye: number;
  retransDetail: Record<string, number>;
  rtpExpected: number;
  rtpRelayed: number;
  rtpRelayedKernel: number;
  relayCpuPercent: number;
  relayRssPeakMb: number;
  relayRssEndMb: number;
  relayRssHwmMb: number;
  kamailioCpuPercent: number;
  sippCpuPercent: number;
  /** Kamailio log lines: NG timeouts, offers/answers that failed, the relay marked disabled. */
  ngTimeouts: number;
  offerFailed: number;
  answerFailed: number;
  relayDisabledSeen: boolean;
  sippWatchdog: number;
  wallSeconds: number;
  loadAverage: string;
}

function requireBinary(name: string, pkg: string): void {
  if (spawnSync('which', [name]).status !== 0) throw new Error(`${name} is not installed: apt-get install -y ${pkg}`);
}

/** utime+stime of a process and all its direct children (Kamailio's workers, SIPp has threads only). */
function treeCpuSeconds(pid: number): number {
  let total = 0;
  try {
    total += processCpuSeconds(pid);
  } catch {
    return NaN;
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) total += processCpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The last row of a SIPp ';'-separated CSV (stat or counts file), keyed by its header. */
function lastRow(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return {};
  const head = lines[0]!.split(';');
  const row = lines[lines.length - 1]!.split(';');
  return Object.fromEntries(head.map((h, i) => [h.trim(), (row[i] ?? '').trim()]));
}

/** Per-call response times from SIPp's -trace_rtt file, by rtd name. */
function responseTimes(dir: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('_rtt.csv'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n').slice(1)) {
      const [, ms, name] = line.trim().split(';');
      if (name === undefined || ms === undefined || ms === '') continue;
      const list = out.get(name) ?? [];
      list.push(Number(ms));
      out.set(name, list);
    }
  }
  for (const l of out.values()) l.sort((a, b) => a - b);
  return out;
}

function retransmissions(counts: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) if (/Retrans/i.test(k) && Number(v) > 0) out[k] = Number(v);
  return out;
}

function totalsField(text: string, label: string): number {
  const m = new RegExp(`^\\s*${label.replace(/[()]/g, '\\$&')}\\s*:\\s*(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r(child.exitCode);
    else child.once('exit', (code) => r(code));
  });
}

function spawnSipp(args: string[], cwd: string, log: string): ChildProcess {
  const fd = openSync(log, 'w');
  const child = spawn('sipp', args, { cwd, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return child;
}

/** Stops a child we started, by its PID: SIGUSR1 (SIPp finishes its calls and dumps its statistics), then SIGKILL. */
async function stopSipp(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  process.kill(child.pid!, 'SIGUSR1');
  const killer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }, graceMs);
  await exitOf(child);
  clearTimeout(killer);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function runOne(name: string, kind: RelayKind, extraArgs: string[], baseDir: string): Promise<Result> {
  const dir = join(baseDir, name);
  mkdirSync(dir, { recursive: true });
  const cliPort = await freePort();
  const relay = await RelayProcess.launch({
    kind, ngPort: await freePort(), cliPort, portMin: num(opt['port-min']), portMax: num(opt['port-max']), extraArgs, logFile: logPath(dir, 'relay'),
  });
  process.stdout.write(`${name} (pid ${relay.pid}): ${relay.command.join(' ')}\n`);
  let kamailio: Kamailio | null = null;
  let uas: ChildProcess | null = null;
  let uac: ChildProcess | null = null;
  try {
    kamailio = await Kamailio.start({ ngPort: relay.ngPort, children: num(opt['kamailio-children']), cfg: KAMAILIO_CFG });
    const uasPort = await freePort();
    const uacPort = await freePort();
    writeFileSync(join(dir, 'uas.xml'), uasScenario({ holdSeconds }));
    writeFileSync(join(dir, 'uac.xml'), uacScenario({ holdSeconds }, `127.0.0.1:${uasPort}`));
    const common = ['-i', '127.0.0.1', '-mi', '127.0.0.1', '-nostdin', '-trace_stat', '-fd', '1', '-trace_counts', '-trace_err', '-max_socket', '4096',
      // SIPp's own default socket buffer is 64 KiB: when SIPp stalls on a busy machine it drops SIP messages itself.
      '-buff_size', String(SIPP_SOCKET_BUFFER)];
    uas = spawnSipp(['-sf', 'uas.xml', '-p', String(uasPort), '-mp', String(UAS_MEDIA_BASE), '-stf', 'uas_stat.csv', ...common], dir, join(dir, 'uas.out'));
    await sleep(1000);
    if (uas.exitCode !== null) throw new Error(`the SIPp callee exited at once; see ${join(dir, 'uas.out')}`);

    const load = loadAverage();
    const cpu0 = processCpuSeconds(relay.pid);
    const kam0 = treeCpuSeconds(kamailio.pid);
    const t0 = Date.now();
    uac = spawnSipp([`127.0.0.1:${kamailio.sipPort}`, '-sf', 'uac.xml', '-p', String(uacPort), '-mp', String(UAC_MEDIA_BASE), '-s', 'load',
      '-r', String(rate), '-l', String(concurrency), '-m', String(totalCalls), '-stf', 'uac_stat.csv', '-trace_rtt', '-rtt_freq', '1', ...common], dir, join(dir, 'uac.out'));
    let rssPeak = 0;
    let sippCpu = 0;
    let disabled = false;
    const uacDone = exitOf(uac);
    const deadline = t0 + 1000 * (totalCalls / rate + holdSeconds + 120);
    let finished = false;
    void uacDone.then(() => (finished = true));
    while (!finished && Date.now() < deadline) {
      rssPeak = Math.max(rssPeak, rssMb(relay.pid));
      sippCpu = treeCpuSeconds(uac.pid!) + treeCpuSeconds(uas.pid!);
      const show = await kamailio.rpc('rtpengine.show', 'all').catch(() => '');
      if (/disabled:\s*1/.test(show)) disabled = true;
      await Promise.race([uacDone, sleep(1000)]);
    }
    if (!finished) process.stdout.write(`  the SIPp caller did not finish in time; stopping it\n`);
    await stopSipp(uac, 10_000);
    const wall = (Date.now() - t0) / 1000;
    const cpu1 = processCpuSeconds(relay.pid);
    const kam1 = treeCpuSeconds(kamailio.pid);
    await stopSipp(uas, 15_000);
    // Calls still on the relay (failed ones the proxy never deleted) are counted when they end: read the totals now.
    await sleep(1500);
    const totals = await cliCommand('127.0.0.1', cliPort, 'list totals');
    writeFileSync(join(dir, 'totals.txt'), totals);
    const rssEnd = rssMb(relay.pid);
    const hwm = peakRssMb(relay.pid);
    writeFileSync(join(dir, 'kamailio.log'), kamailio.output);

    const uacStat = lastRow(join(dir, 'uac_stat.csv'));
    const countsOf = (prefix: string): Record<string, string> => {
      const f = readdirSync(dir).find((n) => n.startsWith(prefix) && n.endsWith('_counts.csv'));
      return f ? lastRow(join(dir, f)) : {};
    };
    const uacRetrans = retransmissions(countsOf('uac_'));
    const uasRetrans = retransmissions(countsOf('uas_'));
    const rtt = responseTimes(dir);
    const invite = rtt.get('invite') ?? rtt.get('1') ?? [];
    const bye = rtt.get('bye') ?? rtt.get('2') ?? [];
    const ok = Number(uacStat['SuccessfulCall(C)'] ?? NaN);
    const failed = Number(uacStat['FailedCall(C)'] ?? NaN);
    const placed = Number(uacStat['TotalCallCreated'] ?? NaN);
    const sumOf = (r: Record<string, number>, re: RegExp): number => Object.entries(r).reduce((a, [k, v]) => a + (re.test(k) ? v : 0), 0);
    const relayedUser = totalsField(totals, 'Total relayed packets (userspace)');
    const relayedKernel = totalsField(totals, 'Total relayed packets (kernel)');
    const relayedAll = totalsField(totals, 'Total relayed packets');
    const log = kamailio.output;
    const count = (re: RegExp): number => (log.match(re) ?? []).length;
    return {
      relay: name,
      command: relay.command.join(' '),
      rate,
      concurrency,
      holdSeconds,
      callsPlaced: placed,
      callsOk: ok,
      callsFailed: failed,
      inviteP50Ms: percentile(invite, 0.5),
      inviteP95Ms: percentile(invite, 0.95),
      inviteP99Ms: percentile(invite, 0.99),
      inviteMaxMs: invite.length ? invite[invite.length - 1]! : NaN,
      byeP50Ms: percentile(bye, 0.5),
      byeP95Ms: percentile(bye, 0.95),
      byeP99Ms: percentile(bye, 0.99),
      retransInvite: sumOf(uacRetrans, /_INVITE_Retrans$/),
      retransOk: sumOf(uasRetrans, /_200_Retrans$/),
      retransBye: sumOf(uacRetrans, /_BYE_Retrans$/),
      retransDetail: { ...prefixKeys('caller ', uacRetrans), ...prefixKeys('callee ', uasRetrans) },
      rtpExpected: ok * plays * G711_PCAP_PACKETS * 2,
      rtpRelayed: Number.isNaN(relayedAll) ? relayedUser : relayedAll,
      rtpRelayedKernel: Number.isNaN(relayedKernel) ? 0 : relayedKernel,
      relayCpuPercent: (100 * (cpu1 - cpu0)) / wall,
      relayRssPeakMb: rssPeak,
      relayRssEndMb: rssEnd,
      relayRssHwmMb: hwm,
      kamailioCpuPercent: (100 * (kam1 - kam0)) / wall,
      sippCpuPercent: (100 * sippCpu) / wall,
      ngTimeouts: count(/timeout waiting reply/g),
      offerFailed: count(/rtpengine_offer failed/g),
      answerFailed: count(/rtpengine_answer failed/g),
      relayDisabledSeen: disabled || /no available proxies|disabl/i.test(log),
      sippWatchdog: Number(uacStat['WatchdogMajor(C)'] ?? 0) + Number(uacStat['WatchdogMinor(C)'] ?? 0),
      wallSeconds: wall,
      loadAverage: load,
    };
  } finally {
    for (const c of [uac, uas]) if (c && c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
    await kamailio?.stop();
    await relay.stop();
  }
}

function prefixKeys(p: string, r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [p + k, v]));
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f0 = (n: number): string => (Number.isFinite(n) ? String(Math.round(n)) : '–');

function table(results: Result[]): string {
  const head = ['relay', 'calls/s × concurrent', 'ok', 'failed', 'INVITE→200 p50/p95/p99/max ms', 'BYE→200 p50/p95/p99 ms',
    'retrans INVITE/200/BYE', 'RTP relayed / expected', 'relay CPU %', 'relay RSS MB peak/end', 'Kamailio CPU %', 'SIPp CPU %',
    'NG timeouts', 'relay disabled', 'load avg'];
  const rows = results.map((r) => [r.relay, `${r.rate} × ${r.concurrency}`, f0(r.callsOk), f0(r.callsFailed),
    `${f1(r.inviteP50Ms)} / ${f1(r.inviteP95Ms)} / ${f1(r.inviteP99Ms)} / ${f1(r.inviteMaxMs)}`,
    `${f1(r.byeP50Ms)} / ${f1(r.byeP95Ms)} / ${f1(r.byeP99Ms)}`, `${f0(r.retransInvite)} / ${f0(r.retransOk)} / ${f0(r.retransBye)}`,
    `${f0(r.rtpRelayed)} / ${f0(r.rtpExpected)} (${f1((100 * r.rtpRelayed) / r.rtpExpected)} %)${r.rtpRelayedKernel > 0 ? `, kernel ${f0(r.rtpRelayedKernel)}` : ''}`,
    f1(r.relayCpuPercent), `${f1(r.relayRssPeakMb)} / ${f1(r.relayRssEndMb)}`, f1(r.kamailioCpuPercent), f1(r.sippCpuPercent),
    f0(r.ngTimeouts), r.relayDisabledSeen ? 'yes' : 'no', r.loadAverage]);
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  requireBinary('sipp', 'sip-tester');
  requireBinary('kamailio', 'kamailio');
  if (!existsSync(G711_PCAP)) throw new Error(`${G711_PCAP} is missing: apt-get install -y sip-tester`);
  const baseDir = mkdtempSync(join(os.tmpdir(), 'sip-load-'));
  process.stdout.write(`${new Date().toISOString()} machine: ${os.availableParallelism()} CPUs, ${cpuModel()}, node ${process.version}; load average ${loadAverage()}\n`);
  process.stdout.write(`${rate} calls/s, at most ${concurrency} up, ${totalCalls} calls of ${holdSeconds} s (${plays} plays of the pcap each way); logs in ${baseDir}\n`);
  const results: Result[] = [];
  const names = opt.relays.split(',').filter((s) => s !== '');
  for (const [i, name] of names.entries()) {
    if (i > 0) await sleep(num(opt.pause) * 1000);
    let kind: RelayKind;
    let extra: string[];
    if (name === 'rtpengine') [kind, extra] = ['rtpengine', opt['rtpengine-arg']];
    else if (name === 'ngrelay') [kind, extra] = ['ngrelay', opt['ngrelay-arg']];
    else if (name === 'ngrelay-kernel') [kind, extra] = ['ngrelay', ['--table=0', ...opt['ngrelay-arg']]];
    else throw new Error(`unknown relay '${name}'`);
    const r = await runOne(name, kind, extra, baseDir);
    results.push(r);
    process.stdout.write(`${table([r]).split('\n')[2]}\n`);
    if (Object.keys(r.retransDetail).length > 0) process.stdout.write(`  retransmissions: ${JSON.stringify(r.retransDetail)}\n`);
  }
  process.stdout.write(`\n${table(results)}\n`);
  if (opt.json !== undefined) writeFileSync(opt.json, JSON.stringify({ cpu: cpuModel(), cpus: os.availableParallelism(), results }, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`sip-load: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
