import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import readline from 'node:readline';
import type { DatagramTransport } from './NgClient.js';
import type { ControlPath } from './Relay.js';
import type { UdpOpener } from './UdpPort.js';

/** The private test subnet: it exists only on the lab's bridge, inside its namespaces. */
export const LAB_NET = '10.201.1';
const AGENT = join(import.meta.dirname, 'netnsAgent.mjs');

/** Counted per process, not per module instance: test files that share a process never reuse a name. */
const counter = globalThis as { ngrelayLabSeq?: number };
const live = new Set<NetLab>();
// A crashed test run must not leave namespaces behind.
process.once('exit', () => {
  for (const lab of live) lab.destroy();
});

function sh(cmd: string[], what = cmd.join(' ')): string {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Namespaces of labs whose test process died without cleaning up (SIGKILL, a crash). */
function sweepStale(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const m = /^((?:ngr|bal|sh|s2)(\d+)x\d+-\S+)/.exec(line);
    if (m && !alive(Number(m[2]))) spawnSync('ip', ['netns', 'del', m[1]!]);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fails with a clear message when this machine cannot run the lab (never skips). */
function preflight(): void {
  if (process.getuid?.() !== 0) throw new Error('NetLab needs root (ip netns, veth, bridge); CI runs as root');
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0) throw new Error(`'ip netns' is unavailable (install iproute2): ${ip.error?.message ?? ip.stderr}`);
  const arping = spawnSync('arping', ['-V'], { encoding: 'utf8' });
  if (arping.error) throw new Error("'arping' is missing: install iputils-arping (.ci/run does it)");
}

/**
 * A small network of Linux namespaces: a hub namespace holding a bridge and one namespace per
 * host, each joined to the bridge by a veth pair (`eth0` inside the host). On these machines the
 * root namespace cannot talk to a bridged address, so every participant lives in a namespace
 * and the test reaches sockets through a NetnsAgent.
 */
export class NetLab {
  private readonly hosts = new Set<string>();
  private readonly agents: NetnsAgent[] = [];
  private destroyed = false;

  private constructor(readonly prefix: string) {}

  /** `prefix`: the start of the namespace names (the balancer's tests use `bal`, shared mode's `sh` and `s2`). */
  static create(o: { prefix?: 'ngr' | 'bal' | 'sh' | 's2' } = {}): NetLab {
    preflight();
    sweepStale();
    counter.ngrelayLabSeq = (counter.ngrelayLabSeq ?? 0) + 1;
    const lab = new NetLab(`${o.prefix ?? 'ngr'}${process.pid}x${counter.ngrelayLabSeq}`);
    live.add(lab);
    try {
      sh(['ip', 'netns', 'add', lab.hub]);
      lab.ip(lab.hub, 'link', 'add', 'br0', 'type', 'bridge');
      lab.ip(lab.hub, 'link', 'set', 'br0', 'up');
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  private get hub(): string {
    return `${this.prefix}-hub`;
  }

  /** The namespace name of a host. */
  ns(host: string): string {
    return `${this.prefix}-${host}`;
  }

  private ip(ns: string, ...args: string[]): string {
    return sh(['ip', '-n', ns, ...args]);
  }

  /** Adds a host with its addresses (/24 on eth0); the first is its own. */
  addHost(host: string, addresses: string[]): void {
    const ns = this.ns(host);
    sh(['ip', 'netns', 'add', ns]);
    this.hosts.add(host);
    const port = `v${this.hosts.size}`;
    this.ip(this.hub, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    this.ip(this.hub, 'link', 'set', port, 'master', 'br0', 'up');
    this.ip(ns, 'link', 'set', 'lo', 'up');
    this.ip(ns, 'link', 'set', 'eth0', 'up');
    for (const a of addresses) this.ip(ns, 'addr', 'add', `${a}/24`, 'dev', 'eth0');
  }

  /** Adds a host that is on no bridge: it reaches others only over links made with `link`. */
  addRoutedHost(host: string): void {
    const ns = this.ns(host);
    sh(['ip', 'netns', 'add', ns]);
    this.hosts.add(host);
    this.ip(ns, 'link', 'set', 'lo', 'up');
  }

  /**
   * A veth link between two hosts, `devX` in X and `devY` in Y, each end with its addresses
   * (with prefix length; IPv6 ones without duplicate address detection, so they work at once).
   */
  link(x: string, devX: string, addrX: string[], y: string, devY: string, addrY: string[]): void {
    this.ip(this.ns(x), 'link', 'add', devX, 'type', 'veth', 'peer', 'name', devY, 'netns', this.ns(y));
    for (const [host, dev, addrs] of [[x, devX, addrX], [y, devY, addrY]] as const) {
      for (const a of addrs) this.ip(this.ns(host), 'addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : []));
      this.ip(this.ns(host), 'link', 'set', dev, 'up');
    }
  }

  /** `ip ARGS` in a host's namespace (routes, addresses, links). */
  ipIn(host: string, ...args: string[]): string {
    return this.ip(this.ns(host), ...args);
  }

  /** Runs a command inside a host's namespace and returns its stdout. */
  run(host: string, ...cmd: string[]): string {
    return sh(['ip', 'netns', 'exec', this.ns(host), ...cmd]);
  }

  sysctl(host: string, key: string, value: string): void {
    this.run(host, 'sysctl', '-q', '-w', `${key}=${value}`);
  }

  /**
   * What keepalived does when it takes a VIP: the address leaves `from` and appears on `to`,
   * which announces it with a gratuitous ARP so that peers' neighbour caches follow at once.
   */
  moveAddress(address: string, from: string, to: string): void {
    this.ip(this.ns(from), 'addr', 'del', `${address}/24`, 'dev', 'eth0');
    this.ip(this.ns(to), 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    // arping waits between probes; the announcement is out as soon as it starts.
    const garp = spawn('ip', ['netns', 'exec', this.ns(to), 'arping', '-q', '-U', '-c', '2', '-I', 'eth0', address], { stdio: 'ignore' });
    garp.on('error', () => undefined);
  }

  /** A socket agent running in a host's namespace; closed with the lab. */
  async agent(host: string): Promise<NetnsAgent> {
    const a = await NetnsAgent.start(this.ns(host));
    this.agents.push(a);
    return a;
  }

  /** Stops the agents and deletes every namespace (processes still in them are the caller's). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const a of this.agents) a.close();
    for (const host of this.hosts) spawnSync('ip', ['netns', 'del', this.ns(host)]);
    spawnSync('ip', ['netns', 'del', this.hub]);
  }
}

export interface AgentPacket {
  data: Buffer;
  address: string;
  port: number;
  at: number;
  /** For streamed RTP: sequence number and the sender's clock when it was sent. */
  seq?: number;
  sentAt?: number;
}

type Reply = Record<string, unknown> & { re: number; error?: string };

/** A node process inside a namespace doing the test's socket work (test/helpers/netnsAgent.mjs). */
export class NetnsAgent {
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private readonly sockets = new Map<number, AgentSocket>();
  private seq = 0;
  private stderr = '';

  private constructor(
    private readonly proc: ChildProcess,
    readonly ns: string,
  ) {
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as Record<string, unknown>;
      if (m['ev'] === 'rx') this.sockets.get(m['sid'] as number)?.deliver(m);
      else {
        const r = m as Reply;
        this.waiting.get(r.re)?.(r);
        this.waiting.delete(r.re);
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    proc.once('exit', () => {
      for (const cb of this.waiting.values()) cb({ re: -1, error: `agent in ${ns} exited: ${this.stderr}` });
      this.waiting.clear();
    });
  }

  static async start(ns: string): Promise<NetnsAgent> {
    const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, AGENT], { stdio: ['pipe', 'pipe', 'pipe'] });
    const agent = new NetnsAgent(proc, ns);
    await agent.request({ op: 'stop', sid: 0 });
    return agent;
  }

  async request(msg: Record<string, unknown>): Promise<Reply> {
    const id = ++this.seq;
    const reply = new Promise<Reply>((resolve) => this.waiting.set(id, resolve));
    this.proc.stdin!.write(JSON.stringify({ ...msg, id }) + '\n');
    const r = await reply;
    if (r.error) throw new Error(`agent in ${this.ns}: ${msg['op'] as string}: ${r.error}`);
    return r;
  }

  /** Fire-and-forget: keeps packet timing free of reply round trips. */
  post(msg: Record<string, unknown>): void {
    this.proc.stdin!.write(JSON.stringify(msg) + '\n');
  }

  async socket(address: string, port = 0): Promise<AgentSocket> {
    const r = await this.request({ op: 'open', address, port });
    const s = new AgentSocket(this, r['sid'] as number, address, r['port'] as number);
    this.sockets.set(s.sid, s);
    return s;
  }

  async tcpLine(host: string, port: number, line: string): Promise<string> {
    return (await this.request({ op: 'tcp', host, port, line }))['text'] as string;
  }

  /** Opens sockets in this namespace for phones (SipUserAgent, RtpEndpoint, MediaPair). */
  udp(): UdpOpener {
    return async (address, port = 0) => {
      const s = await this.socket(address, port);
      return {
        address,
        port: s.port,
        send: (data, p, to) => s.send(data, p, to),
        onMessage: (listener) => (s.listener = (p) => listener(p.data, { address: p.address, port: p.port })),
        close: () => void s.close().catch(() => undefined),
      };
    };
  }

  /** Lets a Relay's NG client and CLI run from this namespace, from `address`. */
  controlPath(address: string): ControlPath {
    return {
      datagrams: () => this.transport(address),
      tcpLine: (host, port, line) => this.tcpLine(host, port, line),
    };
  }

  private transport(address: string): DatagramTransport {
    const listeners = new Set<(m: Buffer) => void>();
    const sock = this.socket(address).then((s) => {
      s.listener = (p) => {
        for (const l of listeners) l(p.data);
      };
      return s;
    });
    return {
      ready: sock.then(() => undefined),
      send: (data, port, host) => void sock.then((s) => s.send(data, port, host)),
      onMessage: (l) => listeners.add(l),
      offMessage: (l) => listeners.delete(l),
      close: () => void sock.then((s) => s.close()).catch(() => undefined),
    };
  }

  close(): void {
    this.proc.stdin!.end();
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

/** A UDP socket in an agent's namespace; remembers what it receives. */
export class AgentSocket {
  readonly received: AgentPacket[] = [];
  listener: ((p: AgentPacket) => void) | null = null;

  constructor(
    private readonly agent: NetnsAgent,
    readonly sid: number,
    readonly address: string,
    readonly port: number,
  ) {}

  deliver(m: Record<string, unknown>): void {
    const data = Buffer.from(m['data'] as string, 'base64');
    const p: AgentPacket = { data, address: m['address'] as string, port: m['port'] as number, at: m['at'] as number };
    if (data.length >= 20 && (data[0]! & 0xc0) === 0x80 && data[1]! < 128) {
      p.seq = data.readUInt16BE(2);
      p.sentAt = data.readDoubleBE(12);
    }
    if (this.listener) this.listener(p);
    else this.received.push(p);
  }

  send(data: Buffer, port: number, to: string): void {
    this.agent.post({ op: 'send', sid: this.sid, to, port, data: data.toString('base64') });
  }

  /** Sends RTP (with its send time in the payload) every `everyMs` until stop(). */
  stream(to: string, port: number, ssrc: number, everyMs = 10): Promise<unknown> {
    return this.agent.request({ op: 'stream', sid: this.sid, to, port, ssrc, everyMs });
  }

  stop(): Promise<unknown> {
    return this.agent.request({ op: 'stop', sid: this.sid });
  }

  close(): Promise<unknown> {
    return this.agent.request({ op: 'close', sid: this.sid });
  }

  /** Packets received after `t` (ms, the shared clock). */
  since(t: number): AgentPacket[] {
    return this.received.filter((p) => p.at > t);
  }
}
