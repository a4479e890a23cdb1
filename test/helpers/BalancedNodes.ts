import { boundUdpPorts } from './health.js';
import { NgClient } from './NgClient.js';
import { NetLab, type NetnsAgent } from './NetLab.js';
import { RedisServer } from './RedisServer.js';
import type { Relay } from './Relay.js';
import { sharedNode, waitNodes, type Sender } from './SharedNodes.js';

/** NG port of every node and of the balanced address; the namespace is ours alone, so it cannot clash. */
const NG = 12222;
const REDIS = 6379;

/**
 * Shared-mode nodes behind a dumb L4 balancer: nftables `numgen inc mod N` DNAT of one address
 * (`vip`) onto the nodes' NG sockets, in a network namespace of our own where every participant
 * (nodes, redis-server, clients) lives on the namespace's loopback: node i on `SUBNET.i`, the
 * balanced address `SUBNET.100`. conntrack keeps a UDP flow on the node its first datagram went
 * to, as in production: each client socket sticks to one node.
 */
export class BalancedNodes {
  readonly nodes: Relay[] = [];
  readonly ngPort = NG;
  private readonly idleSockets: number[] = [];

  private constructor(
    readonly lab: NetLab,
    readonly agent: NetnsAgent,
    readonly redis: RedisServer,
    private readonly subnet: string,
    private readonly args: string[],
  ) {}

  /** `subnet`: the first three octets of the nodes' loopback addresses, e.g. `127.0.4`; `args`: more options for every node. */
  static async start(o: { prefix: 'sh' | 's2'; subnet: string; nodes: number; args?: string[] }): Promise<BalancedNodes> {
    const lab = NetLab.create({ prefix: o.prefix });
    try {
      lab.addHost('lb', ['10.201.1.10']);
      const agent = await lab.agent('lb');
      const redis = await RedisServer.start({ netns: lab.ns('lb'), port: REDIS });
      const b = new BalancedNodes(lab, agent, redis, o.subnet, o.args ?? []);
      for (let i = 1; i <= o.nodes; i++) await b.add();
      b.balance();
      await waitNodes(b.nodes[0]!, o.nodes);
      return b;
    } catch (e) {
      lab.destroy();
      throw e;
    }
  }

  /** The namespace everything runs in. */
  get ns(): string {
    return this.lab.ns('lb');
  }

  get vip(): string {
    return `${this.subnet}.100`;
  }

  /** The nodes' addresses (NG and media), in start order. */
  get addresses(): string[] {
    return this.nodes.map((_, i) => `${this.subnet}.${i + 1}`);
  }

  /** Starts one more node (not in the balancer until `balance()`). */
  async add(): Promise<Relay> {
    const address = `${this.subnet}.${this.nodes.length + 1}`;
    const r = await sharedNode({ redis: `127.0.0.1:${REDIS}/0`, address, netns: this.ns, control: this.agent.controlPath(address), ngPort: NG, args: this.args });
    this.nodes.push(r);
    this.idleSockets.push(boundUdpPorts(r.pid, 20000, 29999).length);
    return r;
  }

  /** (Re)writes the DNAT rule over every node started so far. */
  balance(): void {
    const n = this.nodes.length;
    const map = this.addresses.map((a, i) => `${i} : ${a}`).join(', ');
    const rules = `flush ruleset\ntable ip lb {\n chain out {\n  type nat hook output priority -100;\n  ip daddr ${this.vip} udp dport ${NG} dnat to numgen inc mod ${n} map { ${map} }\n }\n}\n`;
    this.lab.run('lb', 'sh', '-c', `printf '%s' '${rules}' | nft -f -`);
  }

  /** `n` NG client sockets (like Kamailio's SIP workers), each sending to the balanced address. */
  async clients(n: number): Promise<Sender[]> {
    return Promise.all(
      Array.from({ length: n }, async () => {
        const c = new NgClient(NG, this.vip, this.agent.controlPath('127.0.0.1').datagrams());
        return (d: Record<string, unknown>, cookie?: string) => c.request(d, { cookie });
      }),
    );
  }

  /** One `redis-cli` command against the cluster's store. */
  redisCli(...args: string[]): string {
    return this.lab.run('lb', 'redis-cli', '-p', String(REDIS), ...args).trim();
  }

  /** Call keys still in the store (newline-separated; '' when none). */
  keysLeft(): string {
    return this.redisCli('--scan', '--pattern', 'ngrelay:call:*');
  }

  /**
   * Media sockets (sharedNode's range, 20000-29999) each node holds beyond what it held idle,
   * just after it started: the port pairs its media workers keep bound ahead of time.
   */
  extraMediaSockets(): number[] {
    return this.nodes.map((n, i) => boundUdpPorts(n.pid, 20000, 29999).length - this.idleSockets[i]!);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop('SIGKILL')));
    await this.redis.stop();
    this.lab.destroy();
  }
}
