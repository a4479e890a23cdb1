import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DAEMON, ROOT, Relay, runDaemon, sleep, waitFor } from '../helpers/Relay.js';
import { freePort, mediaRange } from '../helpers/ports.js';

// An operator replacing rtpengine on a Debian host: its config file, its command lines, its
// signals, its log conventions and its ctl tool's habits must carry over.

const CTL = join(ROOT, 'dist/src/bin/ngrelay-ctl.js');
const STOCK = readFileSync(join(ROOT, 'test/fixtures/debian-rtpengine.conf'), 'utf8');

function tmpFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ngrelay-dropin-')), name);
  writeFileSync(file, text);
  return file;
}

/** Debian's stock file with its listen ports and media range moved to free ones (nothing else changed). */
async function stockConfig(): Promise<{ text: string; ng: number; cli: number }> {
  const ng = await freePort();
  const cli = await freePort();
  const http = await freePort();
  const r = mediaRange();
  const text = STOCK.replace(/^listen-ng = localhost:2223$/m, `listen-ng = localhost:${ng}`)
    .replace(/^listen-cli = localhost:2224$/m, `listen-cli = localhost:${cli}`)
    .replace(/^listen-http = localhost:2225$/m, `listen-http = localhost:${http}`)
    .replace(/^port-min = 30000$/m, `port-min = ${r.portMin}`)
    .replace(/^port-max = 40000$/m, `port-max = ${r.portMax}`);
  expect(text).not.toBe(STOCK);
  return { text, ng, cli };
}

function ctl(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CTL, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

const relays: Relay[] = [];
async function start(o: Parameters<typeof Relay.start>[0]): Promise<Relay> {
  const r = await Relay.start(o);
  relays.push(r);
  return r;
}
afterAll(async () => {
  for (const r of relays) await r.stop();
});

describe("Debian's stock config and command lines", () => {
  it('starts from the rtpengine-daemon package\'s /etc/rtpengine/rtpengine.conf (interface = any, listen-http, recording-method = proc)', async () => {
    const { text, ng, cli } = await stockConfig();
    const file = tmpFile('rtpengine.conf', text);
    // --table=-1: the file's `table = 0` would attach the kernel fast path to this host's devices.
    const p = spawn(process.execPath, [DAEMON, `--config-file=${file}`, '-f', '-E', '--no-log-timestamps', '--table=-1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitFor('the CLI of the stock config', () => output.includes('Startup complete'), 15_000);
      // The ctl tool finds the CLI through listen-cli of the same file, as rtpengine-ctl does.
      const r = await ctl(['-config', file, 'list', 'numsessions']);
      expect(r.out).toContain('Current sessions own: 0\n');
      const ifs = await ctl(['-port', String(cli), 'list', 'interfaces']);
      expect(ifs.out).toMatch(/^Interface 'default' address '/);
      expect(ifs.out).not.toContain("'127.0.0.1'");
      expect(output).not.toMatch(/Unknown key|not implemented/);
      expect(output).toMatch(/^INFO: \[control\] NG listener ready address=127\.0\.0\.1:\d+$/m);
      expect(ng).toBeGreaterThan(0);
    } finally {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
  });

  it("takes the short options of rtpengine's own test suite and names the ones it ignores once", async () => {
    const ng = await freePort();
    const cli = await freePort();
    const r = await start({
      ngPort: ng,
      cliPort: cli,
      interfaces: [],
      args: ['-t', '-1', '-i', '127.0.0.1', '-n', String(ng), '-c', String(cli), '-f', '-L', '7', '-E', '-u', '2222', '--silence-detect=1', '--log-level-internals=7', '-F'],
    });
    expect(await r.cli('get loglevel internals')).toBe('7\n');
    const lines = r.output.split('\n').filter((l) => l.includes('not implemented'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('ignored: no-fallback, listen-udp\n'.trim());
  });

  it('names interfaces as rtpengine does: any, a system interface, NAME/IFNAME (compared with rtpengine 10.5)', async () => {
    const range = mediaRange(100);
    const o = { interfaces: ['any', 'ext/lo'], portMin: range.portMin, portMax: range.portMax };
    const ours = await start(o);
    const ref = await start({ ...o, rtpengine: true });
    const text = await ours.cli('list interfaces');
    expect(text).toBe(await ref.cli('list interfaces'));
    expect(text).toContain("Interface 'ext' address '127.0.0.1' (IPv4)\n");
    const bad = await runDaemon(['--config-file=none', '-i', 'nosuchnic0']);
    expect(bad.output).toContain("ngrelay: Invalid value for 'interface': 'nosuchnic0': 'nosuchnic0' is not an IP address or a network interface of this host");
  });
});

describe('operations', () => {
  it('prints the version with -v and --version and help with -h and --help, exit 0', async () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    for (const flag of ['-v', '--version']) {
      const r = await runDaemon([flag]);
      expect(r.code).toBe(0);
      expect(r.output).toBe(`Version: ${version} (ngrelay, rtpengine 10.5 compatible)\n`);
    }
    for (const flag of ['-h', '--help']) {
      const r = await runDaemon([flag]);
      expect(r.code).toBe(0);
      expect(r.output).toContain('--interface');
      expect(r.output).toContain('--listen-ng');
    }
  });

  it('reloads timeouts and log levels on SIGHUP, keeps running and keeps its pidfile', async () => {
    const pidfile = join(mkdtempSync(join(tmpdir(), 'ngrelay-pid-')), 'ngrelay.pid');
    const conf = (timeout: number): string => `[rtpengine]\ninterface = 127.0.0.1\ntimeout = ${timeout}\nlog-level = 6\n`;
    const file = tmpFile('rtpengine.conf', conf(60));
    const r = await start({ configFile: undefined, interfaces: [], args: [`--config-file=${file}`, `--pidfile=${pidfile}`] });
    expect(await r.cli('list timeout')).toBe('TIMEOUT=60\n');
    writeFileSync(file, conf(45));
    r.proc.kill('SIGHUP');
    await waitFor('the reload', () => r.output.includes('SIGHUP: config reloaded'));
    expect(await r.cli('list timeout')).toBe('TIMEOUT=45\n');
    expect(readFileSync(pidfile, 'utf8')).toBe(`${r.pid}\n`);
    expect(r.proc.exitCode).toBeNull();
    // A broken file leaves the running settings alone.
    writeFileSync(file, '[rtpengine]\ninterface = 127.0.0.1\ntimeout = soon\n');
    r.proc.kill('SIGHUP');
    await waitFor('the refusal', () => r.output.includes('SIGHUP: config not reloaded'));
    expect(await r.cli('list timeout')).toBe('TIMEOUT=45\n');
    await r.stop();
    expect(existsSync(pidfile)).toBe(false);
  });

  it('logs rtpengine-like text lines by default, with the call-id in brackets', async () => {
    const r = await start({ args: ['--log-format=default'] });
    await r.ng.request({ command: 'answer', 'call-id': 'cid-42', 'from-tag': 'a', 'to-tag': 'b', sdp: 'v=0\r\n' });
    await waitFor('the log line', () => r.output.includes('NG command failed'));
    expect(r.output).toMatch(/^\[\d+\.\d{6}\] INFO: \[core\] Startup complete /m);
    expect(r.output).toMatch(/^\[\d+\.\d{6}\] INFO: \[cid-42\]: \[control\] NG command failed command=answer reason="Unknown call-id"$/m);
  });

  it('logs JSON lines with log-format=json', async () => {
    const r = await start({ args: ['--log-format=json'] });
    // Log lines are written asynchronously: the NG socket may answer before the line is out.
    const line = await waitFor('the start-up line', () => r.output.split('\n').find((l) => l.includes('Startup complete')));
    expect(JSON.parse(line)).toMatchObject({ msg: 'Startup complete', module: 'main' });
  });

  it('prefixes each line with its syslog priority when its stream is the journal (JOURNAL_STREAM)', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'ngrelay-journal-')), 'stderr');
    const fd = openSync(log, 'w');
    const st = fstatSync(fd);
    const ng = await freePort();
    const cli = await freePort();
    const p = spawn(process.execPath, [DAEMON, '--config-file=none', '-i', '127.0.0.1', '-n', String(ng), '-c', String(cli), '-E', '--no-log-timestamps', '--tos=184'], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` },
    });
    closeSync(fd);
    try {
      await waitFor('start-up', () => readFileSync(log, 'utf8').includes('Startup complete'));
      const text = readFileSync(log, 'utf8');
      expect(text).toMatch(/^<6>INFO: \[core\] Startup complete /m);
      expect(text).toMatch(/^<4>WARNING: \[core\] 'tos' is accepted but not applied/m);
    } finally {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
  });

  it("ngrelay-ctl says where the address it could not reach came from", async () => {
    const closed = await freePort();
    const file = tmpFile('rtpengine.conf', `[rtpengine]\nlisten-cli = 127.0.0.1:${closed}\n`);
    const r = await ctl(['-config', file, 'list', 'numsessions']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`ngrelay-ctl: connect ECONNREFUSED 127.0.0.1:${closed} (listen-cli from ${file})\n`);
    const p = await ctl(['-port', String(closed), 'list', 'numsessions']);
    expect(p.err).toBe(`ngrelay-ctl: connect ECONNREFUSED 127.0.0.1:${closed} (-port on the command line)\n`);
  });

  it("README's health check works next to Debian's rtpengine config (ngrelay-ctl -port)", async () => {
    const r = await start({});
    const out = await ctl(['-port', String(r.cliPort), 'list', 'numsessions']);
    expect(out.out).toContain('Current sessions total: 0\n');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toMatch(/ngrelay-ctl -port 9900 list numsessions/);
  });
});

describe('CLI texts as rtpengine 10.5 (the real daemon, side by side)', () => {
  const COMMANDS = [
    'list loglevel', 'list loglevels', 'get loglevel', 'get loglevel core', 'get loglevel nope',
    'set loglevel 6', 'set loglevel core 5', 'set loglevel nope 3', 'set loglevel x', 'list loglevel',
    'list maxload', 'set maxload 2.5', 'set maxload x', 'list maxload', 'list maxcpu', 'set maxcpu 50', 'list maxcpu',
    'list maxbw', 'set maxbw 0', 'set maxopenfiles 100', 'set maxopenfiles abc',
    'params', 'params foo', 'params diff', 'params revert', 'params diff', 'list loglevel', 'list controltos', 'list redisallowederrors',
  ];

  it('answers the loglevel, max*, and params commands byte for byte as rtpengine does', async () => {
    const range = mediaRange(100);
    const o = { interfaces: ['pub1/127.0.0.1'], portMin: range.portMin, portMax: range.portMax, args: ['--num-threads=4'] };
    const ours = await start(o);
    const ref = await start({ ...o, rtpengine: true });
    for (const c of COMMANDS) expect([c, await ours.cli(c)]).toEqual([c, await ref.cli(c)]);
    const own = (r: Relay, t: string): string => t.replace(`:${r.ngPort}\n`, ':NG\n').replace(`:${r.cliPort}\n`, ':CLI\n');
    for (const c of ['params current', 'params start']) expect(own(ours, await ours.cli(c))).toBe(own(ref, await ref.cli(c)));
    const files = await ours.cli('list maxopenfiles');
    expect(files).toMatch(new RegExp(`^Maximum open-files configured on rtpengine: \\d+; cat /proc/${ours.pid}/limits\\n$`));
  });

  it('counts ended calls only in list totals, with the same lines and sections', async () => {
    const range = mediaRange(100);
    const o = { interfaces: ['pub1/127.0.0.1'], portMin: range.portMin, portMax: range.portMax, args: ['--delete-delay=0'] };
    const ours = await start(o);
    const ref = await start({ ...o, rtpengine: true });
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';
    // Uptime, durations and the number of start-up pings differ between two daemons; nothing else may.
    const mask = (t: string): string =>
      t.replace(/(Uptime of rtpengine\s+:)\d+/, '$1N').replace(/:\d+\.\d{6} seconds/g, ':D seconds').replace(/^( +127\.0\.0\.1 \|) +\d+ /m, '$1 P ');
    for (const r of [ours, ref]) {
      await r.ng.request({ command: 'offer', 'call-id': 'tot1', 'from-tag': 'a', sdp });
      await r.ng.request({ command: 'offer', 'call-id': 'tot2', 'from-tag': 'a', sdp });
      await r.ng.request({ command: 'delete', 'call-id': 'tot1', 'from-tag': 'a' });
    }
    await sleep(300);
    const a = mask(await ours.cli('list totals'));
    expect(a).toContain(' Total managed sessions                          :1\n');
    expect(a).toContain(' Owned sessions                                  :1\n');
    expect(a).toContain(' Total number of streams with no relayed packets :1\n');
    expect(a).toBe(mask(await ref.cli('list totals')));
  });
});
