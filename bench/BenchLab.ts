/**
 * The kernel benchmark's network: Linux network namespaces named `kb<PID>-*`, deleted at exit.
 *
 *   A (caller) --a1/r1-- R (relay) --r2/b2-- B (callee)      two links: 10.213.1.0/24, 10.213.2.0/24
 *   A --vda/vdb-- B                                          direct link (the baseline): 10.213.3.0/24
 *   A, R and B on one bridge in H (hub)                     one link (hairpin): 10.213.4.0/24
 *   the two links, the relay's address 10.213.5.1 on R's lo  routed (a VIP): A and B route to it via R
 *
 * Every participant has its own namespace: on some machines the root namespace cannot reach
 * bridged addresses, and the benchmark never puts traffic outside its own namespaces.
 */
import { spawnSync } from 'node:child_process';

export const ADDR = {
  relayA: '10.213.1.1', a: '10.213.1.2',
  relayB: '10.213.2.1', b: '10.213.2.2',
  directA: '10.213.3.1', directB: '10.213.3.2',
  relayHub: '10.213.4.1', aHub: '10.213.4.2', bHub: '10.213.4.3',
  relayVip: '10.213.5.1',
} as const;

export type Topology = 'two-link' | 'hairpin' | 'routed';
export const TOPOLOGIES: readonly Topology[] = ['two-link', 'hairpin', 'routed'];

/** Where caller and callee are, and the relay's logical interfaces towards them (NG `direction`). */
export function topologyEnds(t: Topology): { caller: string; callee: string; direction: [string, string] } {
  if (t === 'two-link') return { caller: ADDR.a, callee: ADDR.b, direction: ['a', 'b'] };
  if (t === 'routed') return { caller: ADDR.a, callee: ADDR.b, direction: ['v', 'v'] };
  return { caller: ADDR.aHub, callee: ADDR.bHub, direction: ['h', 'h'] };
}

/** `interface` values of a relay in R: one logical interface per link, and the VIP. */
export const RELAY_INTERFACES = [`a/${ADDR.relayA}`, `b/${ADDR.relayB}`, `h/${ADDR.relayHub}`, `v/${ADDR.relayVip}`];

function sh(cmd: string[]): string {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class BenchLab {
  private constructor(readonly prefix: string) {}

  get relay(): string {
    return `${this.prefix}-r`;
  }
  get a(): string {
    return `${this.prefix}-a`;
  }
  get b(): string {
    return `${this.prefix}-b`;
  }
  get hub(): string {
    return `${this.prefix}-h`;
  }
  private get all(): string[] {
    return [this.relay, this.a, this.b, this.hub];
  }

  /** A lab described by its prefix (the benchmark's inner process gets it from the outer one). */
  static attach(prefix: string): BenchLab {
    return new BenchLab(prefix);
  }

  /** `forwarding`: IP forwarding in R (the kernel fast path's route lookup needs it to follow routes). */
  static create(o: { forwarding: boolean }): BenchLab {
    if (process.getuid?.() !== 0) throw new Error('the kernel benchmark needs root (network namespaces, veth, tc, bpf)');
    BenchLab.sweepStale();
    const lab = new BenchLab(`kb${process.pid}`);
    try {
      lab.build(o.forwarding);
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  /** Namespaces of earlier runs whose benchmark process is gone. */
  private static sweepStale(): void {
    const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
    for (const line of list.split('\n')) {
      const m = /^(kb(\d+)-[rabh])\b/.exec(line);
      if (m && !alive(Number(m[2]))) spawnSync('ip', ['netns', 'del', m[1]!]);
    }
  }

  private ip(ns: string, ...args: string[]): void {
    sh(['ip', '-n', ns, ...args]);
  }

  private link(nsX: string, devX: string, addrX: string | null, nsY: string, devY: string, addrY: string | null): void {
    this.ip(nsX, 'link', 'add', devX, 'type', 'veth', 'peer', 'name', devY, 'netns', nsY);
    for (const [ns, dev, addr] of [[nsX, devX, addrX], [nsY, devY, addrY]] as const) {
      if (addr !== null) this.ip(ns, 'addr', 'add', `${addr}/24`, 'dev', dev);
      this.ip(ns, 'link', 'set', dev, 'up');
    }
  }

  private build(forwarding: boolean): void {
    for (const ns of this.all) {
      sh(['ip', 'netns', 'add', ns]);
      this.ip(ns, 'link', 'set', 'lo', 'up');
    }
    this.link(this.a, 'a1', ADDR.a, this.relay, 'r1', ADDR.relayA);
    this.link(this.relay, 'r2', ADDR.relayB, this.b, 'b2', ADDR.b);
    this.link(this.a, 'vda', ADDR.directA, this.b, 'vdb', ADDR.directB);
    this.ip(this.hub, 'link', 'add', 'br0', 'type', 'bridge');
    this.ip(this.hub, 'link', 'set', 'br0', 'up');
    this.link(this.relay, 'rh', ADDR.relayHub, this.hub, 'hr', null);
    this.link(this.a, 'ah', ADDR.aHub, this.hub, 'ha', null);
    this.link(this.b, 'bh', ADDR.bHub, this.hub, 'hb', null);
    for (const p of ['hr', 'ha', 'hb']) this.ip(this.hub, 'link', 'set', p, 'master', 'br0');
    this.ip(this.relay, 'addr', 'add', `${ADDR.relayVip}/32`, 'dev', 'lo');
    this.ip(this.a, 'route', 'add', `${ADDR.relayVip}/32`, 'via', ADDR.relayA);
    this.ip(this.b, 'route', 'add', `${ADDR.relayVip}/32`, 'via', ADDR.relayB);
    sh(['ip', 'netns', 'exec', this.relay, 'sysctl', '-q', '-w', `net.ipv4.ip_forward=${forwarding ? 1 : 0}`]);
  }

  /** Deletes the namespaces (their links go with them). */
  destroy(): void {
    for (const ns of this.all) spawnSync('ip', ['netns', 'del', ns]);
  }
}
