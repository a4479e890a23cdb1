import { spawnSync } from 'node:child_process';
import { RedisServer } from './RedisServer.js';
import { waitFor } from './Relay.js';

/** One `redis-cli` command against a local server; its stdout. */
export const redisCli = (port: number, ...args: string[]): string => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout;

/**
 * A Redis Cluster of local redis-server processes, made with `redis-cli --cluster create`:
 * `masters` shards, each with `replicas` replicas. A short node timeout lets a replica take over
 * a dead master within a few seconds.
 */
export class RedisCluster {
  private constructor(readonly servers: RedisServer[]) {}

  static async start(o: { masters: number; replicas: number; nodeTimeoutMs?: number }): Promise<RedisCluster> {
    const n = o.masters * (1 + o.replicas);
    const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(o.nodeTimeoutMs ?? 1000)];
    const servers = await Promise.all(Array.from({ length: n }, () => RedisServer.start({ args })));
    const cluster = new RedisCluster(servers);
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', String(o.replicas), '--cluster-yes'], { encoding: 'utf8' });
    if (create.status !== 0) {
      await cluster.stop();
      throw new Error(`redis-cli --cluster create failed (${create.status}): ${create.stdout}${create.stderr}`);
    }
    await waitFor('cluster_state:ok on every node', () => servers.every((s) => redisCli(s.port, 'cluster', 'info').includes('cluster_state:ok')), 15_000, 100);
    if (o.replicas > 0) await waitFor('every replica in sync', () => cluster.replicas().every((s) => redisCli(s.port, 'info', 'replication').includes('master_link_status:up')), 15_000, 100);
    return cluster;
  }

  private role(s: RedisServer): string {
    return redisCli(s.port, 'role').split('\n')[0]?.trim() ?? '';
  }

  /** The servers that are masters now (a promoted replica included). */
  masters(): RedisServer[] {
    return this.servers.filter((s) => this.role(s) === 'master');
  }

  replicas(): RedisServer[] {
    return this.servers.filter((s) => this.role(s) === 'slave');
  }

  /** The replicas of a master, by its port. */
  replicasOf(master: RedisServer): RedisServer[] {
    return this.replicas().filter((s) => new RegExp(`^master_port:${master.port}\\r?$`, 'm').test(redisCli(s.port, 'info', 'replication')));
  }

  /** Keys matching `pattern` on every live master. */
  keys(pattern: string): string[] {
    return this.masters().flatMap((s) => redisCli(s.port, '--scan', '--pattern', pattern).split('\n').filter((k) => k !== ''));
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
