import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Dict } from '../helpers/NgClient.js';
import { freePort } from '../helpers/ports.js';
import { RedisCluster, redisCli } from '../helpers/RedisCluster.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { Relay, sleep, waitFor } from '../helpers/Relay.js';
import { audioSdp } from '../helpers/sdp.js';
import { callFlow, seeded, sharedNode, waitNodes, type Sender } from '../helpers/SharedNodes.js';

// cluster-mode=shared on the two other engines, Redis Sentinel and Redis Cluster, each losing a
// master under load; all local processes started here.

const servers: RedisServer[] = [];
const sentinels: ChildProcess[] = [];
let nodes: Relay[] = [];

afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  nodes = [];
  for (const s of sentinels.splice(0)) s.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** Sends like Kamailio: the same cookie again after 1 s without a reply, up to 10 s. */
function retransmitting(r: Relay, latencies: number[]): Sender {
  let seq = 0;
  return async (d, cookie = `k${process.pid}_${r.ngPort}_${++seq}`) => {
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) {
      try {
        const reply = await r.ng.request(d, { cookie });
        latencies.push(Date.now() - t0);
        return reply;
      } catch {
        /* no reply within the client's wait: retransmit */
      }
    }
    throw new Error(`no reply to ${String(d['command'])} within 10 attempts`);
  };
}

async function startSentinel(masterPort: number): Promise<number> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ngrelay-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, [
    `port ${port}`, 'bind 127.0.0.1', 'protected-mode no', `dir ${dir}`,
    `sentinel monitor mymaster 127.0.0.1 ${masterPort} 2`,
    'sentinel down-after-milliseconds mymaster 1000',
    'sentinel failover-timeout mymaster 5000',
    'sentinel parallel-syncs mymaster 1', '',
  ].join('\n'));
  const p = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  sentinels.push(p);
  await waitFor('sentinel up', () => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.includes('PONG'), 10_000, 100);
  return port;
}

/** 200 calls set up through random nodes (seeded) with retransmitting senders that time every reply. */
async function callsUp(prefix: string, seed: number): Promise<{ pick: () => Sender; ids: string[]; latencies: number[] }> {
  const latencies: number[] = [];
  const senders = nodes.map((n) => retransmitting(n, latencies));
  const rnd = seeded(seed);
  const pick = (): Sender => senders[Math.floor(rnd() * senders.length)]!;
  const ids = Array.from({ length: 200 }, (_, i) => `${prefix}-${i}`);
  for (let i = 0; i < ids.length; i += 20) {
    const results = await Promise.all(ids.slice(i, i + 20).map((id) => callFlow(pick, id, true)));
    expect(results.flatMap((r) => r.failures)).toEqual([]);
  }
  return { pick, ids, latencies };
}

/** ms from `since` until `replica` says it is a master (asked without blocking the test's sockets). */
function promotion(replica: RedisServer, since: number): Promise<number> {
  const c = replica.client(0);
  return waitFor('the replica promoted', async () => ((await c.call('role')) as unknown[])[0] === 'master' && Date.now() - since, 15_000, 50);
}

/** Signalling through a failover: every 100 ms for 4 s, a new call's offer (`PREFIX-during-i`) and `existing(i)`, each on a random node. */
async function signalThrough(pick: () => Sender, prefix: string, existing: (i: number) => Dict[]): Promise<Dict[]> {
  const during: Promise<Dict>[] = [];
  for (let i = 0; i < 40; i++) {
    during.push(pick()({ command: 'offer', 'call-id': `${prefix}-during-${i}`, 'from-tag': 'ft', sdp: audioSdp('10.9.0.1', 4000) }));
    for (const d of existing(i)) during.push(pick()(d));
    await sleep(100);
  }
  return Promise.all(during);
}

describe('shared cluster store engines', () => {
  it('Redis Sentinel: master SIGKILLed under 200 calls; no call lost, NG replies bounded', async () => {
    const master = await RedisServer.start();
    const replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    servers.push(master, replica);
    await waitFor('replica in sync', () => redisCli(replica.port, 'info', 'replication').includes('master_link_status:up'), 10_000, 100);
    const sp = [await startSentinel(master.port), await startSentinel(master.port), await startSentinel(master.port)];
    await waitFor('sentinels see the replica', () => /num-slaves\r?\n1/.test(redisCli(sp[0]!, 'sentinel', 'master', 'mymaster')), 15_000, 200);
    const args = ['--redis-engine=sentinel', `--redis-nodes=127.0.0.1:${sp[1]}`, `--redis-nodes=127.0.0.1:${sp[2]}`, '--redis-cmd-timeout=8000'];
    nodes = await Promise.all([1, 2, 3].map((i) => sharedNode({ redis: `127.0.0.1:${sp[0]}/0`, address: `127.0.2.${i}`, args })));
    await waitNodes(nodes[0]!, 3);
    const { pick, ids, latencies } = await callsUp('sent', 200);
    await sleep(300); // the replica has the records

    latencies.length = 0;
    const killedAt = Date.now();
    await master.kill();
    const promoted = promotion(replica, killedAt);
    // Signalling goes on through the failover: new calls and queries of the existing ones.
    const replies = await signalThrough(pick, 'sent', (i) => [{ command: 'query', 'call-id': ids[i * 5]! }]);
    const failed = replies.filter((r) => r['result'] !== 'ok');
    const maxMs = Math.max(...latencies);
    const promotedMs = await promoted;
    await waitFor('new master', () => redisCli(sp[0]!, 'sentinel', 'get-master-addr-by-name', 'mymaster').includes(String(replica.port)), 10_000, 100);
    console.log(`sentinel failover: master SIGKILLed; replica promoted after ${promotedMs} ms; ${replies.length} NG commands during the failover, ${failed.length} failed; max reply ${maxMs} ms`);
    expect(failed).toEqual([]);
    // No call lost: every one of the 200 answers through any node, and ends cleanly.
    const after = await Promise.all(ids.map((id) => pick()({ command: 'query', 'call-id': id })));
    expect(after.filter((r) => r['result'] !== 'ok')).toEqual([]);
    const dels = await Promise.all([...ids, ...Array.from({ length: 40 }, (_, i) => `sent-during-${i}`)].map((id) => pick()({ command: 'delete', 'call-id': id, 'from-tag': 'ft' })));
    expect(dels.filter((r) => r['result'] !== 'ok')).toEqual([]);
    await waitFor('no call keys on the new master', () => redisCli(replica.port, '--scan', '--pattern', 'ngrelay:call:*').trim() === '', 5000, 100);
  });

  it('Redis Cluster (3 masters): 500 calls on random nodes; keys spread over the shards, none left', async () => {
    const rc = await RedisCluster.start({ masters: 3, replicas: 0 });
    servers.push(...rc.servers);
    const shards = rc.servers;
    const args = ['--redis-engine=cluster', `--redis-nodes=127.0.0.1:${shards[1]!.port}`];
    nodes = await Promise.all([1, 2, 3, 4, 5].map((i) => sharedNode({ redis: `127.0.0.1:${shards[0]!.port}/0`, address: `127.0.3.${i}`, args })));
    await waitNodes(nodes[0]!, 5);
    const rnd = seeded(500);
    const pick = (): Sender => {
      const n = nodes[Math.floor(rnd() * nodes.length)]!;
      return (d, cookie) => n.ng.request(d, { cookie });
    };
    const failures: string[] = [];
    const spread = new Set<number>();
    for (let i = 0; i < 500; i += 25) {
      const batch = Array.from({ length: 25 }, (_, j) => `rc-${i + j}`);
      // Half of each batch is checked in mid-call: its key lives on some shard.
      const kept = await Promise.all(batch.map((id) => callFlow(pick, id, true)));
      failures.push(...kept.flatMap((r) => r.failures));
      shards.forEach((s, k) => {
        if (redisCli(s.port, '--scan', '--pattern', 'ngrelay:call:rc-*').trim() !== '') spread.add(k);
      });
      const dels = await Promise.all(batch.map((id) => pick()({ command: 'delete', 'call-id': id, 'from-tag': 'ft' })));
      failures.push(...dels.filter((r) => r['result'] !== 'ok').map((r) => JSON.stringify(r)));
    }
    expect(failures).toEqual([]);
    expect(spread.size).toBe(3);
    expect(rc.keys('ngrelay:call:*')).toEqual([]);
  });

  it('Redis Cluster (3 masters, 3 replicas): a master SIGKILLed under 200 calls; its replica takes over, no call lost, NG replies bounded', async () => {
    const rc = await RedisCluster.start({ masters: 3, replicas: 1 });
    servers.push(...rc.servers);
    const masters = rc.masters();
    // The start-up node named in `redis` is the one that dies: the nodes must not depend on it.
    const victim = masters[0]!;
    const heir = rc.replicasOf(victim)[0]!;
    const args = ['--redis-engine=cluster', ...masters.slice(1).map((m) => `--redis-nodes=127.0.0.1:${m.port}`), '--redis-cmd-timeout=8000'];
    nodes = await Promise.all([1, 2, 3].map((i) => sharedNode({ redis: `127.0.0.1:${victim.port}/0`, address: `127.0.5.${i}`, args })));
    await waitNodes(nodes[0]!, 3);
    const { pick, ids, latencies } = await callsUp('rcf', 201);
    const onVictim = redisCli(victim.port, '--scan', '--pattern', 'ngrelay:call:rcf-*').split('\n').filter((k) => k !== '').length;
    expect(onVictim).toBeGreaterThan(0);
    await waitFor('the replica has the dying shard\'s calls', () => redisCli(heir.port, '--scan', '--pattern', 'ngrelay:call:rcf-*').split('\n').filter((k) => k !== '').length === onVictim, 5000, 100);

    latencies.length = 0;
    const killedAt = Date.now();
    await victim.kill();
    // Signalling goes on through the failover: new calls, and queries and answers of existing ones.
    const answer = (id: string): Dict => ({ command: 'answer', 'call-id': id, 'from-tag': 'ft', 'to-tag': 'tt', sdp: audioSdp('10.9.0.2', 5000) });
    const promoted = promotion(heir, killedAt);
    const replies = await signalThrough(pick, 'rcf', (i) => [{ command: 'query', 'call-id': ids[i * 5]! }, answer(ids[i * 5 + 1]!)]);
    const promotedMs = await promoted;
    const failed = replies.filter((r) => r['result'] !== 'ok');
    const maxMs = Math.max(...latencies);

    // No call lost: every one of the 200 is queried and answered through any node, and ends cleanly.
    const queried = await Promise.all(ids.map((id) => pick()({ command: 'query', 'call-id': id })));
    const lost = queried.filter((r) => r['result'] !== 'ok').length;
    const answered = await Promise.all(ids.map((id) => pick()(answer(id))));
    // New calls are set up on the new topology.
    const fresh = await Promise.all(Array.from({ length: 20 }, (_, i) => callFlow(pick, `rcf-after-${i}`)));
    console.log(`redis cluster failover: master SIGKILLed under ${ids.length} calls (${onVictim} on its shard); replica promoted after ${promotedMs} ms; ` +
      `${replies.length} NG commands during the failover, ${failed.length} failed; max reply ${maxMs} ms; calls lost ${lost}`);
    expect(failed).toEqual([]);
    expect(lost).toBe(0);
    expect(answered.filter((r) => r['result'] !== 'ok')).toEqual([]);
    expect(fresh.flatMap((r) => r.failures)).toEqual([]);
    // Once the failover settled, every node wrote all its calls again (what a dead master had not
    // replicated yet would be back): every call has its record on the new topology.
    const ended = [...ids, ...Array.from({ length: 40 }, (_, i) => `rcf-during-${i}`)];
    for (const n of nodes) await waitFor('own calls written again', () => n.output.includes('writing all own calls again'), 5000, 100);
    expect(rc.keys('ngrelay:call:rcf-*').sort()).toEqual(ended.map((id) => `ngrelay:call:${id}`).sort());
    const dels = await Promise.all(ended.map((id) => pick()({ command: 'delete', 'call-id': id, 'from-tag': 'ft' })));
    expect(dels.filter((r) => r['result'] !== 'ok')).toEqual([]);
    await waitFor('no call keys on any master', () => rc.keys('ngrelay:call:*').length === 0, 5000, 100);
  });
});
