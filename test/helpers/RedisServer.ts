import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { controlPorts } from './ports.js';
import { sleep } from './Relay.js';

/** A real redis-server on a free loopback port, with keyspace events on. */
export class RedisServer {
  private proc: ChildProcess | null = null;
  private readonly clients: Redis[] = [];

  private constructor(
    readonly port: number,
    readonly args: string[],
    readonly host: string,
  ) {}

  static async start(o: { notify?: string; password?: string; args?: string[]; host?: string; port?: number; netns?: string } = {}): Promise<RedisServer> {
    const which = spawnSync('which', ['redis-server']);
    if (which.status !== 0) {
      throw new Error("redis-server is not installed: 'apt-get install -y redis-server' (.ci/run does it)");
    }
    const host = o.host ?? '127.0.0.1';
    const port = o.port ?? (await controlPorts(1, { netns: o.netns, host }))[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'ngrelay-redis-'));
    const args = ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir,
      '--notify-keyspace-events', o.notify ?? 'KEA', '--protected-mode', 'no'];
    if (o.password) args.push('--requirepass', o.password);
    args.push(...(o.args ?? []));
    const r = new RedisServer(port, args, host);
    (r as unknown as { netns?: string }).netns = o.netns;
    await r.launch(o.netns);
    return r;
  }

  private async launch(netns?: string): Promise<void> {
    const cmd = netns ? ['ip', 'netns', 'exec', netns, 'redis-server', ...this.args] : ['redis-server', ...this.args];
    this.proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    this.proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!out.includes('Ready to accept connections')) {
      if (this.proc.exitCode !== null) throw new Error(`redis-server exited: ${out}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not start: ${out}`);
      await sleep(50);
    }
  }

  /** A client on `db` (closed by stop()). */
  client(db = 0, password?: string): Redis {
    const c = new Redis({ host: this.host, port: this.port, db, password, lazyConnect: false, maxRetriesPerRequest: 2 });
    c.on('error', () => undefined);
    this.clients.push(c);
    return c;
  }

  /** Kills the server (SIGKILL, like a crash) and waits for it to go. */
  async kill(): Promise<void> {
    const p = this.proc;
    // A process killed by a signal has signalCode set and exitCode null.
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }

  /** SIGSTOP: the server holds every connection and answers nothing, until resume(). */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** Starts the same server again on the same port (empty: no persistence). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch((this as unknown as { netns?: string }).netns);
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.disconnect();
    await this.kill();
  }
}
