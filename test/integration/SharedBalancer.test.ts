import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NgClient } from '../helpers/NgClient.js';
import { NetLab, type NetnsAgent } from '../helpers/NetLab.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { sleep, waitFor, type Relay } from '../helpers/Relay.js';
import { rtpPacket } from '../helpers/RtpEndpoint.js';
import { callFlow, ownCalls, seeded, sharedNode, waitNodes, type Sender } from '../helpers/SharedNodes.js';

// Five shared-mode nodes behind a dumb L4 balancer: nftables `numgen inc mod N` DNAT in a
// namespace of our own (every participant on that namespace's loopback). conntrack keeps a
// UDP flow on the node its first datagram was sent to, as it does in production; the test uses
// 20 client sockets (like Kamailio's SIP workers) and picks one at random (seeded) per command,
// so offer, answer, re-INVITE and delete of one call land on different nodes.

const VIP = '127.0.4.100';
const NG = 12222;
const CALLS = 500;
let lab: NetLab;
let agent: NetnsAgent;
let redis: RedisServer;
const nodes: Relay[] = [];

function balance(n: number): void {
  const map = Array.from({ length: n }, (_, i) => `${i} : 127.0.4.${i + 1}`).join(', ');
  const rules = `flush ruleset\ntable ip lb {\n chain out {\n  type nat hook output priority -100;\n  ip daddr ${VIP} udp dport ${NG} dnat to numgen inc mod ${n} map { ${map} }\n }\n}\n`;
  lab.run('lb', 'sh', '-c', `printf '%s' '${rules}' | nft -f -`);
}

async function start(i: number): Promise<Relay> {
  const address = `127.0.4.${i}`;
  const r = await sharedNode({ redis: `127.0.0.1:${redis.port}/0`, address, netns: lab.ns('lb'), control: agent.controlPath(address), ngPort: NG });
  nodes.push(r);
  return r;
}

async function clients(n: number): Promise<Sender[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const c = new NgClient(NG, VIP, agent.controlPath('127.0.0.1').datagrams());
      return (d: Record<string, unknown>, cookie?: string) => c.request(d, { cookie });
    }),
  );
}

beforeAll(async () => {
  lab = NetLab.create({ prefix: 'sh' });
  lab.addHost('lb', ['10.201.1.10']);
  agent = await lab.agent('lb');
  redis = await RedisServer.start({ netns: lab.ns('lb'), port: 6379 });
  for (let i = 1; i <= 5; i++) await start(i);
  balance(5);
  await waitNodes(nodes[0]!, 5);
}, 60_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  await redis?.stop();
  lab?.destroy();
});

const keysLeft = (): string => lab.run('lb', 'redis-cli', '-p', '6379', '--scan', '--pattern', 'ngrelay:call:*').trim();

describe('shared cluster behind an nftables round-robin balancer', () => {
  it(`${CALLS} calls, each command on a random node: the owner answers every one, RTP flows through the owner, nothing left behind`, async () => {
    const senders = await clients(20);
    const rnd = seeded(5);
    const pick = (): Sender => senders[Math.floor(rnd() * senders.length)]!;
    const failures: string[] = [];
    for (let i = 0; i < CALLS; i += 20) {
      const results = await Promise.all(Array.from({ length: 20 }, (_, j) => callFlow(pick, `lb-${i + j}`)));
      for (const r of results) {
        failures.push(...r.failures);
        // The owner's reply: the re-INVITE keeps the ports and address the owner gave at the offer.
        if (r.reinviteAddress !== r.offerAddress || r.reinvitePort !== r.offerPort) failures.push(`${r.callId}: re-INVITE reply not the owner's`);
        if (!/^127\.0\.4\.[1-5]$/.test(r.offerAddress)) failures.push(`${r.callId}: address ${r.offerAddress}`);
      }
    }
    expect(failures).toEqual([]);
    // Every node owned some: the balancer spread the offers.
    // RTP through the owner on a few calls.
    const pa = await agent.socket('127.0.0.1');
    const pb = await agent.socket('127.0.0.1');
    for (let k = 0; k < 5; k++) {
      const r = await callFlow(pick, `media-${k}`, true, { a: ['127.0.0.1', pa.port], b: ['127.0.0.1', pb.port] });
      expect(r.failures).toEqual([]);
      const before = pb.received.length;
      for (let s = 0; s < 5; s++) pa.send(rtpPacket(s, 0x2000 + k), r.answerPort, r.offerAddress);
      const got = await waitFor('RTP through the owner', () => pb.received.length >= before + 5 && pb.received.slice(before), 5000, 20);
      expect(got.every((p) => p.address === r.offerAddress)).toBe(true);
      expect((await pick()({ command: 'delete', 'call-id': `media-${k}`, 'from-tag': 'ft' }))['result']).toBe('ok');
    }
    expect(keysLeft()).toBe('');
    const own = await Promise.all(nodes.map(ownCalls));
    expect(own).toEqual([0, 0, 0, 0, 0]);
    const bound = lab.run('lb', 'ss', '-Hanu', '( sport >= :20000 and sport <= :29999 )').trim();
    expect(bound).toBe('');
  });

  it('a node started during load takes new calls as soon as it is in the balancer (within one heartbeat)', async () => {
    const senders = await clients(5);
    const rnd = seeded(6);
    const pick = (): Sender => senders[Math.floor(rnd() * senders.length)]!;
    const load = (async () => {
      const f: string[] = [];
      for (let i = 0; i < 60; i++) f.push(...(await callFlow(pick, `load-${i}`)).failures);
      return f;
    })();
    await sleep(300);
    const fresh = await start(6);
    balance(6);
    const later = await clients(12);
    const rnd2 = seeded(7);
    const results = [];
    for (let i = 0; i < 24; i++) results.push(await callFlow(() => later[Math.floor(rnd2() * later.length)]!, `join-${i}`, i < 12));
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(await ownCalls(fresh)).toBeGreaterThan(0);
    expect(await load).toEqual([]);
    for (let i = 0; i < 12; i++) expect((await pick()({ command: 'delete', 'call-id': `join-${i}`, 'from-tag': 'ft' }))['result']).toBe('ok');
    expect(keysLeft()).toBe('');
  });
});
