import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BalancedNodes } from '../helpers/BalancedNodes.js';
import { sleep, waitFor } from '../helpers/Relay.js';
import { rtpPacket } from '../helpers/RtpEndpoint.js';
import { callFlow, ownCalls, seeded, type Sender } from '../helpers/SharedNodes.js';

// Five shared-mode nodes behind a dumb L4 balancer (nftables `numgen inc mod N` DNAT, see
// BalancedNodes). The test uses 20 client sockets (like Kamailio's SIP workers) and picks one at
// random (seeded) per command, so offer, answer, re-INVITE and delete of one call land on
// different nodes.

const CALLS = 500;
let cluster: BalancedNodes;

beforeAll(async () => {
  cluster = await BalancedNodes.start({ prefix: 'sh', subnet: '127.0.4', nodes: 5 });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('shared cluster behind an nftables round-robin balancer', () => {
  it(`${CALLS} calls, each command on a random node: the owner answers every one, RTP flows through the owner, nothing left behind`, async () => {
    const senders = await cluster.clients(20);
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
    const pa = await cluster.agent.socket('127.0.0.1');
    const pb = await cluster.agent.socket('127.0.0.1');
    for (let k = 0; k < 5; k++) {
      const r = await callFlow(pick, `media-${k}`, true, { a: ['127.0.0.1', pa.port], b: ['127.0.0.1', pb.port] });
      expect(r.failures).toEqual([]);
      const before = pb.received.length;
      for (let s = 0; s < 5; s++) pa.send(rtpPacket(s, 0x2000 + k), r.answerPort, r.offerAddress);
      const got = await waitFor('RTP through the owner', () => pb.received.length >= before + 5 && pb.received.slice(before), 5000, 20);
      expect(got.every((p) => p.address === r.offerAddress)).toBe(true);
      expect((await pick()({ command: 'delete', 'call-id': `media-${k}`, 'from-tag': 'ft' }))['result']).toBe('ok');
    }
    expect(cluster.keysLeft()).toBe('');
    const own = await Promise.all(cluster.nodes.map(ownCalls));
    expect(own).toEqual([0, 0, 0, 0, 0]);
    await waitFor('no media socket left beyond the idle ones', () => cluster.extraMediaSockets().every((n) => n === 0), 5000, 100);
  });

  it('a node started during load takes new calls as soon as it is in the balancer (within one heartbeat)', async () => {
    const senders = await cluster.clients(5);
    const rnd = seeded(6);
    const pick = (): Sender => senders[Math.floor(rnd() * senders.length)]!;
    const load = (async () => {
      const f: string[] = [];
      for (let i = 0; i < 60; i++) f.push(...(await callFlow(pick, `load-${i}`)).failures);
      return f;
    })();
    await sleep(300);
    const fresh = await cluster.add();
    cluster.balance();
    const later = await cluster.clients(12);
    const rnd2 = seeded(7);
    const results = [];
    for (let i = 0; i < 24; i++) results.push(await callFlow(() => later[Math.floor(rnd2() * later.length)]!, `join-${i}`, i < 12));
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(await ownCalls(fresh)).toBeGreaterThan(0);
    expect(await load).toEqual([]);
    for (let i = 0; i < 12; i++) expect((await pick()({ command: 'delete', 'call-id': `join-${i}`, 'from-tag': 'ft' }))['result']).toBe('ok');
    expect(cluster.keysLeft()).toBe('');
  });
});
