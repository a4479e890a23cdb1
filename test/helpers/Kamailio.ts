import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPorts } from './ports.js';
import { ROOT, waitFor } from './Relay.js';

export const KAMAILIO_CFG = join(ROOT, 'test/fixtures/kamailio.cfg');

function requireTool(name: string): string {
  const which = spawnSync('which', [name], { encoding: 'utf8' });
  if (which.status !== 0) {
    throw new Error(`${name} is not installed: 'apt-get install -y kamailio' (.ci/run does it); the Kamailio end-to-end test needs it`);
  }
  return which.stdout.trim();
}

/** An unmodified Kamailio started in the foreground with test/fixtures/kamailio.cfg, pointed at an NG relay. */
export class Kamailio {
  output = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly proc: ChildProcess,
    readonly sipPort: number,
    readonly ctlSocket: string,
  ) {
    proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  }

  /** `netns`: run inside that network namespace (SIP and NG on its loopback); `sipPort`: the port to listen on (default: a free one). */
  static async start(o: { ngPort: number; ngHost?: string; children?: number; cfg?: string; netns?: string; sipPort?: number }): Promise<Kamailio> {
    const binary = requireTool('kamailio');
    requireTool('kamcmd');
    const sipPort = o.sipPort ?? (await controlPorts(1, { netns: o.netns }))[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'ngrelay-kamailio-'));
    const ctlSocket = `unixs:${join(dir, 'kamailio_ctl')}`;
    const args = [
      '-DD', '-E', '-f', o.cfg ?? KAMAILIO_CFG,
      '-l', `udp:127.0.0.1:${sipPort}`,
      '-n', String(o.children ?? 2),
      '-A', `NG_SOCK="udp:${o.ngHost ?? '127.0.0.1'}:${o.ngPort}"`,
      '-A', `CTL_SOCK="${ctlSocket}"`,
      '-Y', dir, '-w', dir, '-m', '32', '-M', '8',
    ];
    const cmd = o.netns ? ['ip', 'netns', 'exec', o.netns, binary, ...args] : [binary, ...args];
    const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const k = new Kamailio(proc, sipPort, ctlSocket);
    let exited = false;
    void k.exited.then(() => (exited = true));
    await waitFor('Kamailio RPC to answer', async () => {
      if (exited) throw new Error(`kamailio exited during start-up:\n${k.output}`);
      return (await k.rpc('core.version').catch(() => '')).includes('kamailio');
    }, 15_000, 100).catch((e: Error) => {
      throw new Error(`${e.message}\n${k.output}`);
    });
    return k;
  }

  /** One RPC command through the ctl socket (kamcmd). */
  rpc(...command: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('kamcmd', ['-s', this.ctlSocket, ...command], { timeout: 5000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`kamcmd ${command.join(' ')}: ${err.message} ${stderr}`));
        else resolve(stdout);
      });
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** SIGTERM to the main process (it stops its children) and waits for it to exit. */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    return this.exited;
  }
}
