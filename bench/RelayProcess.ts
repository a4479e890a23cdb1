import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { NgControl } from './NgControl.js';

export type RelayKind = 'ngrelay' | 'rtpengine';

export interface RelayLaunch {
  kind: RelayKind;
  ngPort: number;
  cliPort: number;
  portMin: number;
  portMax: number;
  /** Appended to the command line (e.g. --num-threads=2). */
  extraArgs: string[];
  logFile: string;
  /** `interface` values (default: 127.0.0.1 only). */
  interfaces?: string[];
  /** Another ngrelay binary (default: this checkout's dist/src/bin/ngrelay.js). */
  binary?: string;
}

const NGRELAY = resolve(import.meta.dirname, '../src/bin/ngrelay.js');
export const RTPENGINE = '/usr/bin/rtpengine';

export function relayCommand(l: RelayLaunch): string[] {
  const ifaces = (l.interfaces ?? ['127.0.0.1']).map((i) => `--interface=${i}`);
  const common = [`--port-min=${l.portMin}`, `--port-max=${l.portMax}`, ...l.extraArgs];
  if (l.kind === 'ngrelay') {
    // Userspace, like the rtpengine it is compared with, unless the run asks for a table.
    const table = l.extraArgs.some((a) => a.startsWith('--table')) ? [] : ['--table=-1'];
    // The binary as installed, with nothing added: it sets its own runtime settings.
    return [l.binary ?? NGRELAY, '--config-file=none', ...ifaces, `--listen-ng=127.0.0.1:${l.ngPort}`,
      `--listen-cli=127.0.0.1:${l.cliPort}`, '--foreground', '--log-stderr', ...table, ...common];
  }
  // Userspace only: no kernel forwarding table.
  return [RTPENGINE, '--table=-1', '--config-file=none', ...ifaces, `--listen-ng=127.0.0.1:${l.ngPort}`,
    `--listen-cli=127.0.0.1:${l.cliPort}`, '--foreground', '--log-stderr', ...common];
}

/** A relay under test: one we started (and stop by its PID) or one already running elsewhere. */
export class RelayProcess {
  readonly ng: NgControl;
  private exitCode: number | null | undefined;

  private constructor(
    readonly name: string,
    readonly pid: number,
    readonly ngHost: string,
    readonly ngPort: number,
    readonly command: string[],
    private readonly child: ChildProcess | null,
    readonly cliPort = 0,
  ) {
    this.ng = new NgControl(ngHost, ngPort);
    child?.once('exit', (code, signal) => (this.exitCode = code ?? (signal ? -1 : null)));
  }

  static async launch(l: RelayLaunch): Promise<RelayProcess> {
    const cmd = relayCommand(l);
    if (l.kind === 'ngrelay' && !existsSync(NGRELAY)) throw new Error(`${NGRELAY} is missing: run 'npm run build' first`);
    if (!existsSync(cmd[0]!)) throw new Error(`${cmd[0]} is missing: 'apt-get install rtpengine-daemon', or leave it out with --relays=ngrelay`);
    const log = openSync(l.logFile, 'w');
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', log, log] });
    closeSync(log);
    if (child.pid === undefined) throw new Error(`cannot start ${cmd[0]}`);
    const relay = new RelayProcess(l.kind, child.pid, '127.0.0.1', l.ngPort, cmd, child, l.cliPort);
    try {
      await relay.ng.waitPong(60_000);
    } catch (e) {
      await relay.stop();
      throw new Error(`${l.kind} did not come up (${(e as Error).message}); see ${l.logFile}`);
    }
    return relay;
  }

  /** A relay someone else runs: we only talk NG to it and read its /proc entry. */
  static attach(name: string, host: string, ngPort: number, pid: number): RelayProcess {
    return new RelayProcess(name, pid, host, ngPort, [], null);
  }

  /** One CLI command (`list sessions ID`, `list totals`) over TCP; resolves with the whole reply. */
  cli(line: string, timeoutMs = 5000): Promise<string> {
    return new Promise((res, rej) => {
      let out = '';
      const s = net.connect({ host: this.ngHost, port: this.cliPort }, () => s.write(line + '\n'));
      s.setEncoding('utf8');
      s.on('data', (d: string) => (out += d));
      s.on('end', () => res(out));
      s.on('error', rej);
      s.setTimeout(timeoutMs, () => {
        s.destroy();
        rej(new Error(`CLI '${line}' timed out`));
      });
    });
  }

  get running(): boolean {
    return this.child === null || this.exitCode === undefined;
  }

  /** SIGTERM to our own child by PID, SIGKILL if it lingers; never touches other processes. */
  async stop(): Promise<void> {
    this.ng.close();
    const child = this.child;
    if (child === null || this.exitCode !== undefined) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(this.pid, 'SIGTERM');
    const killer = setTimeout(() => {
      if (this.exitCode === undefined) process.kill(this.pid, 'SIGKILL');
    }, 5000);
    await exited;
    clearTimeout(killer);
  }
}

export function logPath(dir: string, name: string): string {
  return join(dir, `${name}.log`);
}

/** A TCP port free on loopback right now (the relay binds its NG (UDP) and CLI (TCP) ports on it). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => res(p));
    });
  });
}

/** One CLI command over TCP (rtpengine's `rtpengine-ctl` protocol: a line in, text until close). */
export function cliCommand(host: string, port: number, line: string, timeoutMs = 5000): Promise<string> {
  return new Promise((res, rej) => {
    let out = '';
    const s = net.connect(port, host, () => s.write(`${line}\n`));
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`CLI '${line}' on ${host}:${port} timed out`)));
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.once('error', rej);
    s.once('close', () => res(out));
  });
}
