import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Dict } from '../helpers/NgClient.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { Relay, sleep, waitFor } from '../helpers/Relay.js';
import { RtpEndpoint, rtpPacket } from '../helpers/RtpEndpoint.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';
import { callFlow, ownCalls, seeded, sharedNode, waitNodes, type Sender } from '../helpers/SharedNodes.js';

// cluster-mode=shared on loopback: every node on its own 127.0.1.x address, one redis-server.
// The balancer-fronted 5-node run is in SharedBalancer.test.ts; the engines in SharedStores.test.ts.

let redis: RedisServer | null = null;
let nodes: Relay[] = [];

afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  nodes = [];
  await redis?.stop();
  redis = null;
});

async function cluster(n: number, args: string[] = [], first = 1, configFile?: string): Promise<Relay[]> {
  redis ??= await RedisServer.start();
  // Five at a time: twenty Node processes booting at once on two cores outlast the ready wait.
  const started: Relay[] = [];
  for (let b = 0; b < n; b += 5) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(5, n - b) }, (_, i) => sharedNode({ redis: `127.0.0.1:${redis!.port}/0`, address: `127.0.1.${first + b + i}`, args, configFile })));
    // Every node that came up is stopped after the test, also when another one did not.
    for (const r of batch) if (r.status === 'fulfilled') started.push(r.value);
    nodes.push(...started.slice(started.length - batch.filter((r) => r.status === 'fulfilled').length));
    const failed = batch.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return started;
}

const via = (r: Relay): Sender => (d, cookie) => r.ng.request(d, { cookie });

async function callKeys(): Promise<string[]> {
  const c = redis!.client(0);
  return (await c.keys('ngrelay:call:*')).sort();
}

describe('shared cluster', () => {
  it('refuses a second node with the same node-id, and lists every node from every node', async () => {
    const [a, b] = await cluster(2);
    await waitNodes(a!, 2);
    const text = await waitNodes(b!, 2);
    expect(text).toContain('node: node-127.0.1.1 ');
    expect(text).toContain('node: node-127.0.1.2 (this node)');
    const dup = sharedNode({ redis: `127.0.0.1:${redis!.port}/0`, address: '127.0.1.9', nodeId: 'node-127.0.1.1' });
    await expect(dup).rejects.toThrow(/node-id 'node-127.0.1.1' is in use by a live node/);
    const stats = await a!.ng.ok({ command: 'statistics' });
    expect((stats['statistics'] as Dict)['cluster']).toMatchObject({ nodes: 2, node: 'node-127.0.1.1' });
  });

  it('the same offer sent to two nodes at once, 1,000 times: one owner each time, both requesters get the same SDP', async () => {
    const [a, b] = await cluster(2);
    await waitNodes(a!, 2);
    let sameSdp = 0;
    const owners = new Map<string, number>();
    for (let batch = 0; batch < 40; batch++) {
      const ids = Array.from({ length: 25 }, (_, i) => `race-${batch * 25 + i}`);
      const pairs = await Promise.all(
        ids.map(async (callId) => {
          const dict = { command: 'offer', 'call-id': callId, 'from-tag': 'ft', sdp: audioSdp('10.9.0.1', 4000) };
          const cookie = `race_${callId}`;
          const [ra, rb] = await Promise.all([a!.ng.request(dict, { cookie }), b!.ng.request(dict, { cookie })]);
          return { callId, ra, rb };
        }),
      );
      for (const { ra, rb } of pairs) {
        expect(ra['result']).toBe('ok');
        if (ra['sdp'] === rb['sdp']) sameSdp++;
      }
      // One owner: the calls exist once in the cluster, on the node the record names.
      const own = [await ownCalls(a!), await ownCalls(b!)];
      expect(own[0]! + own[1]!).toBe(25);
      const c = redis!.client(0);
      for (const id of ids) {
        const owner = await c.hget(`ngrelay:call:${id}`, 'owner');
        owners.set(owner!, (owners.get(owner!) ?? 0) + 1);
      }
      await Promise.all(ids.map((callId, i) => (i % 2 ? a! : b!).ng.ok({ command: 'delete', 'call-id': callId, 'from-tag': 'ft' })));
    }
    console.log(`ownership race: 1000 offers each sent to 2 nodes at once; identical SDP ${sameSdp}/1000; owners ${JSON.stringify([...owners])}`);
    expect(sameSdp).toBe(1000);
    expect([...owners.values()].reduce((x, y) => x + y, 0)).toBe(1000);
    expect(await callKeys()).toEqual([]);
  });

  it('takes the forwarding keys only from a node: from an NG client they are dropped and the command is routed as any other', async () => {
    const [a, b] = await cluster(2);
    await waitNodes(a!, 2);
    const posing = { 'ngrelay-hop': 'node-127.0.1.1', 'ngrelay-from': '10.66.0.1:5060' };
    await a!.ng.ok({ command: 'offer', 'call-id': 'posing-1', 'from-tag': 'ft', sdp: audioSdp('10.9.0.1', 4000) });
    // Taken for a forwarded command, this query for a's call would be answered by b itself: unknown call.
    expect((await b!.ng.request({ command: 'query', 'call-id': 'posing-1', ...posing }))['result']).toBe('ok');
    // A call created with the keys names its real requester, not the one the keys claim.
    await b!.ng.ok({ command: 'offer', 'call-id': 'posing-2', 'from-tag': 'ft', sdp: audioSdp('10.9.0.1', 4002), ...posing });
    const sessions = (await a!.cli('list sessions all')) + (await b!.cli('list sessions all'));
    expect(sessions).toMatch(/posing-2 \| .*\| proxy:127\.0\.0\.1:\d+ \|/);
    expect(sessions).not.toContain('10.66.0.1');
    // Between nodes, forwarding goes on: b's offer for a's call is answered by a.
    const viaB = await b!.ng.ok({ command: 'offer', 'call-id': 'posing-1', 'from-tag': 'ft', sdp: audioSdp('10.9.0.1', 4000) });
    expect(viaB['sdp']).toContain('c=IN IP4 127.0.1.1\r\n');
  });

  it('a SIGKILLed node: its deletes succeed elsewhere, a re-INVITE moves a call onto a survivor with media, its heartbeat and records go', async () => {
    const [a, b, c] = await cluster(3, ['--timeout=3']);
    await waitNodes(a!, 3);
    const phoneA = await RtpEndpoint.open('127.0.0.1');
    const phoneB = await RtpEndpoint.open('127.0.0.1');
    try {
      const calls = ['k1', 'k2', 'k3'];
      for (const id of calls) await callFlow(() => via(c!), id, true, { a: ['127.0.0.1', phoneA.port], b: ['127.0.0.1', phoneB.port] });
      expect(await ownCalls(c!)).toBe(3);
      await c!.stop('SIGKILL');
      // delete through survivors: the record goes, the answer is ok.
      expect((await a!.ng.request({ command: 'delete', 'call-id': 'k1', 'from-tag': 'ft' }))['result']).toBe('ok');
      // query answers from the record.
      const q = await b!.ng.request({ command: 'query', 'call-id': 'k2' });
      expect(q['result']).toBe('ok');
      expect(q['owner']).toBe('node-127.0.1.3');
      // re-INVITE through b: b takes the call over on its own address; the answer through a reaches b.
      const base = { 'call-id': 'k2', 'from-tag': 'ft', replace: ['origin', 'session-connection'] };
      const ro = await a!.ng.ok({ ...base, command: 'offer', 'to-tag': 'tt', sdp: audioSdp('127.0.0.1', phoneA.port, { origin: 're' }) });
      const ra = await b!.ng.ok({ ...base, command: 'answer', 'to-tag': 'tt', sdp: audioSdp('127.0.0.1', phoneB.port) });
      const toB = readSdp(String(ro['sdp']));
      const toA = readSdp(String(ra['sdp']));
      expect(toB.address).toBe('127.0.1.1');
      expect(toA.address).toBe('127.0.1.1');
      for (let i = 0; i < 20; i++) phoneA.send(rtpPacket(i, 0x1111), toA.medias[0]!.port, toA.address!);
      await phoneB.waitFor(10);
      expect(phoneB.received.every((p) => p.address === '127.0.1.1')).toBe(true);
      expect(await ownCalls(a!)).toBe(1);
      // The dead node's heartbeat and its last record (k3) are reaped after `timeout` (3 s here).
      await waitFor('dead node reaped', async () => !(await a!.cli('list nodes')).includes('node-127.0.1.3'), 15_000, 200);
      await waitFor('records of the dead node gone', async () => (await callKeys()).join() === 'ngrelay:call:k2', 10_000, 200);
      await a!.ng.ok({ command: 'delete', 'call-id': 'k2', 'from-tag': 'ft' });
      expect(await callKeys()).toEqual([]);
    } finally {
      phoneA.close();
      phoneB.close();
    }
  });

  it('the store away for longer than a lease lives: afterwards a call\'s owner that has not renewed its lease yet still gets its commands', async () => {
    const [a, b] = await cluster(2, ['--redis-cmd-timeout=8000']);
    await waitNodes(a!, 2);
    const ids = ['p1', 'p2', 'p3'];
    for (const id of ids) expect((await callFlow(() => via(b!), id, true)).failures).toEqual([]);
    // The owner is held (SIGSTOP) so that it renews its lease only late; the store is stopped for
    // longer than leases live (three heartbeats, 900 ms here), so every lease runs out unrenewed.
    process.kill(b!.pid, 'SIGSTOP');
    redis!.pause();
    await sleep(1500);
    redis!.resume();
    const answer = (id: string): Dict => ({ command: 'answer', 'call-id': id, 'from-tag': 'ft', 'to-tag': 'tt', sdp: audioSdp('10.9.0.2', 5000) });
    const replies = Promise.all(ids.map((id) => a!.ng.request(answer(id))));
    await sleep(300);
    process.kill(b!.pid, 'SIGCONT');
    // Forwarded to the owner, not answered by the other node as if the owner were dead.
    expect((await replies).map((r) => r['result'])).toEqual(['ok', 'ok', 'ok']);
    expect([await ownCalls(a!), await ownCalls(b!)]).toEqual([0, 3]);
    for (const id of ids) await a!.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'ft' });
    expect(await callKeys()).toEqual([]);
  });

  it('a store that does not answer the owner lookup: the command gets an error reply, not silence', async () => {
    const [a] = await cluster(1, ['--redis-cmd-timeout=500']);
    redis!.pause();
    try {
      const r = await a!.ng.request({ command: 'answer', 'call-id': 'no-store', 'from-tag': 'ft', 'to-tag': 'tt', sdp: audioSdp('10.9.0.2', 5000) });
      expect(r['result']).toBe('error');
      expect(String(r['error-reason'])).toMatch(/^Internal error: /);
    } finally {
      redis!.resume();
    }
    expect((await a!.ng.request({ command: 'ping' }))['result']).toBe('pong');
  });

  it('an owner whose delete waits (bounded) for its release in a store that takes no writes: the forwarding node waits for that reply', async () => {
    const [a, b] = await cluster(2);
    await waitNodes(a!, 2);
    expect((await callFlow(() => via(b!), 'w1', true)).failures).toEqual([]);
    // Reads go on (the owner lookup), writes wait: the owner holds its delete's reply up to its bounded wait (1 s).
    await redis!.client(0).call('client', 'pause', '1500', 'write');
    const t0 = Date.now();
    const r = await a!.ng.request({ command: 'delete', 'call-id': 'w1', 'from-tag': 'ft' });
    expect([r['result'], Date.now() - t0 >= 900]).toEqual(['ok', true]);
    expect([await ownCalls(a!), await ownCalls(b!)]).toEqual([0, 0]);
    await waitFor('the release landed once writes resumed', async () => (await callKeys()).length === 0, 5000, 100);
  });

  // The two ways an operator drains a node: the CLI, and `drain = yes` in its config file with SIGHUP.
  const drainBy: Array<[string, (r: Relay) => Promise<void>]> = [
    ['ngrelay-ctl drain', async (r) => expect(await r.cli('drain')).toContain('Draining')],
    ['drain = yes in the config file and SIGHUP', async (r) => {
      writeFileSync(r.configPath!, readFileSync(r.configPath!, 'utf8').replace('drain = no', 'drain = yes'));
      process.kill(r.pid, 'SIGHUP');
    }],
  ];

  it.each(drainBy)('drain by %s: new offers go to other nodes, calls keep working, the node exits 0 after its last call with no failed command', async (_how, startDrain) => {
    const [a, b] = await cluster(2, [], 1, '[rtpengine]\ndrain = no\n');
    await waitNodes(a!, 2);
    const failures: string[] = [];
    for (const id of ['d1', 'd2']) failures.push(...(await callFlow(() => via(b!), id, true)).failures);
    expect(await ownCalls(b!)).toBe(2);
    await startDrain(b!);
    await waitFor('draining announced', async () => (await a!.cli('list nodes')).includes('state: draining'), 5000, 100);
    // A new call offered to the draining node is owned by the other one.
    const r = await callFlow(() => via(b!), 'd3', true);
    failures.push(...r.failures);
    expect(r.offerAddress).toBe('127.0.1.1');
    expect(await ownCalls(a!)).toBe(1);
    // Its own calls still answer (re-INVITE through the other node), then end.
    for (const id of ['d1', 'd2']) {
      const q = await a!.ng.request({ command: 'query', 'call-id': id });
      if (q['result'] !== 'ok') failures.push(JSON.stringify(q));
      const d = await a!.ng.request({ command: 'delete', 'call-id': id, 'from-tag': 'ft' });
      if (d['result'] !== 'ok') failures.push(JSON.stringify(d));
    }
    expect(await b!.exited).toBe(0);
    expect(failures).toEqual([]);
    await a!.ng.ok({ command: 'delete', 'call-id': 'd3', 'from-tag': 'ft' });
    expect(await callKeys()).toEqual([]);
    await waitFor('drained node left the directory', async () => !(await a!.cli('list nodes')).includes('127.0.1.2'), 5000, 100);
  });

  it('20 nodes (more than Redis has DBs) share DB 0; commands land on random nodes', async () => {
    // One media worker each: twenty relays boot on this machine's two cores at once.
    const all = await cluster(20, ['--num-threads=1']);
    await waitNodes(all[0]!, 20, 20_000);
    const rnd = seeded(20);
    const pick = (): Sender => via(all[Math.floor(rnd() * all.length)]!);
    const failures: string[] = [];
    for (let i = 0; i < 40; i++) failures.push(...(await callFlow(pick, `n20-${i}`)).failures);
    expect(failures).toEqual([]);
    expect(await callKeys()).toEqual([]);
    const counts = await Promise.all(all.map(ownCalls));
    expect(counts.every((n) => n === 0)).toBe(true);
  });
});
