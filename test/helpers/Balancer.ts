import { spawn, type ChildProcess } from 'node:child_process';
import { cliLine } from './cliLine.js';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NgClient } from './NgClient.js';
import { controlPorts } from './ports.js';
import { ROOT, type ControlPath } from './Relay.js';

export const BALANCER = join(ROOT, 'dist/src/bin/ngrelay-balancer.js');

export interface MemberOption {
  name: string;
  address: string;
  weight?: number;
  capacity?: number;
  label?: string;
}

export interface BalancerOptions {
  members?: MemberOption[];
  /** Config file text; written to a temp file and passed with --config-file. */
  configFile?: string;
  args?: string[];
  ngPort?: number;
  cliPort?: number;
  ngHost?: string;
  netns?: string;
  control?: ControlPath;
  /** Wait for the NG listener to answer (default true). */
  waitReady?: boolean;
}

export function memberArg(m: MemberOption): string {
  return `--member=name=${m.name},address=${m.address},weight=${m.weight ?? 1},capacity=${m.capacity ?? 1000}${m.label ? `,label=${m.label}` : ''}`;
}

/** An ngrelay-balancer started as a child process, with an NG client and its admin CLI. */
export class Balancer {
  readonly ng: NgClient;
  output = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly proc: ChildProcess,
    readonly ngPort: number,
    readonly cliPort: number,
    readonly ngHost: string,
    readonly configPath: string | null,
    private readonly control?: ControlPath,
  ) {
    this.ng = new NgClient(ngPort, ngHost, control?.datagrams());
    proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  }

  static async start(o: BalancerOptions = {}): Promise<Balancer> {
    if (!existsSync(BALANCER)) throw new Error(`${BALANCER} is missing: run 'npm run build' (npm test does it)`);
    const ngHost = o.ngHost ?? '127.0.0.1';
    const [free1, free2] = o.ngPort !== undefined && o.cliPort !== undefined ? [] : await controlPorts(2, { netns: o.netns, host: ngHost });
    const ngPort = o.ngPort ?? free1!;
    const cliPort = o.cliPort ?? free2!;
    const args = [BALANCER];
    let configPath: string | null = null;
    if (o.configFile !== undefined) {
      configPath = join(mkdtempSync(join(tmpdir(), 'ngrelay-balancer-')), 'ngrelay-balancer.conf');
      writeFileSync(configPath, o.configFile);
      args.push(`--config-file=${configPath}`);
    } else args.push('--config-file=none');
    if (o.members) args.push(`--listen-ng=${ngHost}:${ngPort}`, ...o.members.map(memberArg));
    args.push(`--listen-cli=${ngHost}:${cliPort}`, '--log-stderr', '--log-level=7', ...(o.args ?? []));
    const program = args;
    const cmd = o.netns ? ['ip', 'netns', 'exec', o.netns, ...program] : program;
    const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const b = new Balancer(proc, ngPort, cliPort, ngHost, configPath, o.control);
    if (o.waitReady !== false) await b.waitReady();
    return b;
  }

  /** Waits for the admin CLI (it listens once the clusters are up). */
  async waitReady(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`ngrelay-balancer exited during start-up:\n${this.output}`);
      if ((await this.cli('ls').catch(() => '')).endsWith('OK\n')) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`ngrelay-balancer did not start within ${timeoutMs} ms:\n${this.output}`);
  }

  cli(line: string): Promise<string> {
    if (this.control) return this.control.tcpLine(this.ngHost, this.cliPort, line);
    return cliLine(this.ngHost, this.cliPort, line);
  }

  /** `ls CLUSTER` parsed: member name → its fields. */
  async members(cluster = 'default'): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    let current: Record<string, string> | null = null;
    for (const line of (await this.cli(`ls ${cluster}`)).split('\n')) {
      if (/^\s+Member: #/.test(line)) current = {};
      const m = /^\s+([a-z ]+) = (.*)$/.exec(line);
      if (m && current) {
        current[m[1]!] = m[2]!;
        if (m[1] === 'name') out.set(m[2]!, current);
      }
    }
    return out;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.ng.close();
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }
}
