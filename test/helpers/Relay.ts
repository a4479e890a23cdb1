import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cliLine } from './cliLine.js';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NgClient, type DatagramTransport } from './NgClient.js';
import { controlPorts, mediaRange } from './ports.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DAEMON = join(ROOT, 'dist/src/bin/ngrelay.js');

/** How the test reaches a relay that runs in a network namespace (see NetLab). */
export interface ControlPath {
  datagrams(): DatagramTransport;
  tcpLine(host: string, port: number, line: string): Promise<string>;
}

export interface RelayOptions {
  /** `interface` values, e.g. ['pub1/127.0.0.1']. */
  interfaces?: string[];
  /** Extra command-line options, e.g. ['--timeout=3']. */
  args?: string[];
  /** Config file text; written to a temp file and passed with --config-file. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  portMin?: number;
  portMax?: number;
  ngPort?: number;
  cliPort?: number;
  /** Run inside a network namespace (`ip netns exec NAME`). */
  netns?: string;
  ngHost?: string;
  /** NG and CLI go through this (a namespaced agent) instead of local sockets. */
  control?: ControlPath;
  /** Wait for the NG ping to answer (default true). */
  waitReady?: boolean;
  /** Run Debian's rtpengine (the reference, userspace only) with the same options instead of ngrelay. */
  rtpengine?: boolean;
  /** Raise the daemon's open-file limit to the hard limit (many calls need many sockets). */
  maxFiles?: boolean;
  /** Start it as `node dist/src/bin/ngrelay.js` (a launcher whose child is the relay) instead of the binary itself. */
  viaNode?: boolean;
}

export const RTPENGINE = '/usr/bin/rtpengine';

/** The hard limit on open files: as many sockets as a daemon of ours may get here. */
export function hardFileLimit(): number {
  const r = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) && n > 0 ? n : 1024;
}

/** An ngrelay daemon started as a child process, with clients for its NG and CLI sockets. */
export class Relay {
  readonly ng: NgClient;
  output = '';
  exited: Promise<number | null>;

  private constructor(
    readonly proc: ChildProcess,
    readonly ngPort: number,
    readonly cliPort: number,
    readonly portMin: number,
    readonly portMax: number,
    readonly ngHost: string,
    /** The config file written for `configFile` (a test may edit it and send SIGHUP), or null. */
    readonly configPath: string | null,
    private readonly control?: ControlPath,
  ) {
    this.ng = new NgClient(ngPort, ngHost, control?.datagrams());
    proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  }

  static async start(o: RelayOptions = {}): Promise<Relay> {
    if (o.rtpengine && !existsSync(RTPENGINE)) throw new Error(`${RTPENGINE} is missing: 'apt-get install -y rtpengine-daemon' (.ci/run does it)`);
    if (!o.rtpengine && !existsSync(DAEMON)) throw new Error(`${DAEMON} is missing: run 'npm run build' (npm test does it)`);
    const ngHost = o.ngHost ?? '127.0.0.1';
    const range = o.portMin !== undefined ? { portMin: o.portMin, portMax: o.portMax ?? o.portMin + 399 } : mediaRange();
    const [free1, free2] = o.ngPort !== undefined && o.cliPort !== undefined ? [] : await controlPorts(2, { netns: o.netns, host: ngHost, avoid: range });
    const ngPort = o.ngPort ?? free1!;
    const cliPort = o.cliPort ?? free2!;
    const args = o.rtpengine ? ['--table=-1', '--foreground'] : [DAEMON];
    let configPath: string | null = null;
    if (o.configFile !== undefined) {
      configPath = join(mkdtempSync(join(tmpdir(), 'ngrelay-')), 'rtpengine.conf');
      writeFileSync(configPath, o.configFile);
      args.push(`--config-file=${configPath}`);
    } else args.push('--config-file=none');
    for (const i of o.interfaces ?? (o.configFile === undefined ? ['pub1/127.0.0.1'] : [])) args.push(`--interface=${i}`);
    args.push(`--listen-ng=${ngHost}:${ngPort}`, `--listen-cli=${ngHost}:${cliPort}`);
    args.push(`--port-min=${range.portMin}`, `--port-max=${range.portMax}`, '--log-stderr', '--log-level=7');
    // Tests read ngrelay's log as JSON lines (the default is rtpengine-like text).
    if (!o.rtpengine) args.push('--log-format=json');
    // Kernel fast path only where a test asks for it (a `table`): it changes the namespace's devices.
    if (!o.rtpengine && !(o.args ?? []).some((a) => a.startsWith('--table'))) args.push('--table=-1');
    args.push(...(o.args ?? []));
    // ngrelay as installed: the binary itself, which starts Node with the relay's runtime settings.
    const program = o.rtpengine ? [RTPENGINE, ...args] : o.viaNode ? [process.execPath, ...args] : args;
    const limited = o.maxFiles ? ['prlimit', `--nofile=${hardFileLimit()}`, ...program] : program;
    const cmd = o.netns ? ['ip', 'netns', 'exec', o.netns, ...limited] : limited;
    const proc = spawn(cmd[0]!, cmd.slice(1), { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = new Relay(proc, ngPort, cliPort, range.portMin, range.portMax, ngHost, configPath, o.control);
    if (o.waitReady !== false) {
      try {
        await relay.waitReady();
      } catch (e) {
        // A relay that never became ready is not left running behind the failed test.
        proc.kill('SIGKILL');
        throw e;
      }
    }
    return relay;
  }

  /** Pings until `pong`; fails with the daemon's output if it exits or never answers. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`ngrelay exited during start-up:\n${this.output}`);
      try {
        const r = await this.ng.raw('d7:command4:pinge', undefined, 300);
        if (r.toString().includes('pong')) return;
      } catch {
        /* not yet */
      }
    }
    throw new Error(`ngrelay did not answer ping within ${timeoutMs} ms:\n${this.output}`);
  }

  /** One CLI command over TCP, as rtpengine-ctl sends it. */
  cli(line: string): Promise<string> {
    if (this.control) return this.control.tcpLine(this.ngHost, this.cliPort, line);
    return cliLine(this.ngHost, this.cliPort, line);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Stops the daemon (SIGTERM by default) and resolves with its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.ng.close();
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }
}

/** Runs ngrelay to completion (for start-up errors) and returns exit code and output. */
export function runDaemon(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 10_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(DAEMON, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, output });
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A value `waitFor` accepts as done. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls `f` until it returns a truthy value, or fails with `what`. */
export async function waitFor<T>(what: string, f: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 50): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await f();
      if (v) return v as Truthy<T>;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
