import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BalancedNodes } from '../helpers/BalancedNodes.js';
import { Kamailio } from '../helpers/Kamailio.js';
import { placeKamailioCall, type KamailioCallResult } from '../helpers/KamailioCall.js';
import type { Dict } from '../helpers/NgClient.js';
import { waitFor } from '../helpers/Relay.js';
import { ownCalls } from '../helpers/SharedNodes.js';

// An unmodified Kamailio whose rtpengine socket is the address of a dumb L4 balancer (nftables
// `numgen inc mod 3` DNAT) in front of three shared-mode nodes; Kamailio, the nodes, Redis and
// the phones all in one namespace of our own. Kamailio's SIP workers each have their own NG
// socket, and conntrack keeps each socket's flow on one node, so the commands of one call
// (offer, answer, the re-INVITEs', delete) reach whichever node the worker handling that SIP
// message is stuck to: most calls are answered partly by forwarding to the owner.

const CALLS = 60;
const CONCURRENCY = 6;
const NODES = 3;

describe('an unmodified Kamailio driving a shared cluster through an L4 balancer', () => {
  let cluster: BalancedNodes;
  let kamailio: Kamailio;

  beforeAll(async () => {
    cluster = await BalancedNodes.start({ prefix: 's2', subnet: '127.0.6', nodes: NODES });
    kamailio = await Kamailio.start({ ngHost: cluster.vip, ngPort: cluster.ngPort, netns: cluster.ns, children: 6 });
  }, 60_000);

  afterAll(async () => {
    await kamailio?.stop();
    await cluster?.stop();
  });

  it(`${CALLS} calls from INVITE to BYE: the owner relays RTP and RTCP both ways, every command answered, nothing left behind`, async () => {
    await waitFor("Kamailio's ping answered through the balancer", () =>
      kamailio.output.includes(`rtpengine instance <udp:${cluster.vip}:${cluster.ngPort}> found, support for it enabled`), 10_000, 100);
    const [query] = await cluster.clients(1);
    const open = cluster.agent.udp();
    const results: KamailioCallResult[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        next++;
        results.push(await placeKamailioCall({
          kamailio,
          relay: { address: cluster.addresses, portMin: 20000, portMax: 29999 },
          open,
          beforeBye: async (c) => {
            // The node whose address the SDP carries is the call's owner in the store ...
            const relay = c.sdps[0]!.media.address;
            expect(cluster.redisCli('hget', `ngrelay:call:${c.callId}`, 'owner')).toBe(`node-${relay}`);
            // ... and it counted every packet both phones sent (asked through the balancer).
            const q = await query!({ command: 'query', 'call-id': c.callId });
            const totals = q['totals'] as { RTP: { packets: number }; RTCP: { packets: number } };
            expect([q['result'], totals.RTP.packets, totals.RTCP.packets]).toEqual(['ok', 2 * c.sent.rtp, 2 * c.sent.rtcp]);
          },
        }));
      }
    }));
    expect(results).toHaveLength(CALLS);

    const owners = new Map<string, number>();
    for (const r of results) owners.set(r.sdps[0]!.media.address, (owners.get(r.sdps[0]!.media.address) ?? 0) + 1);
    const stats = await Promise.all(cluster.nodes.map((n) => n.ng.ok({ command: 'statistics' })));
    const forwarded = stats.map((s) => ((s['statistics'] as Dict)['cluster'] as Dict)['forwarded'] as number);
    const packets = results.reduce((a, r) => a + 2 * (r.sent.rtp + r.sent.rtcp), 0);
    console.log(`kamailio through the L4 balancer: ${CALLS} calls, ${packets} RTP/RTCP packets relayed; owners ${JSON.stringify([...owners])}; commands forwarded to the owner per node ${JSON.stringify(forwarded)}`);
    // The balancer spread the work: commands reached non-owners, which forwarded them.
    expect(forwarded.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // Kamailio got "ok" for every command; no node failed one.
    expect(kamailio.output).not.toMatch(/rtpengine_(offer|answer) failed|ERROR: rtpengine|did not respond/);
    for (const n of cluster.nodes) expect(n.output).not.toMatch(/"NG command failed"|"NG reply failed"/);

    // BYE deleted every call: no key in the store, no call and no media port on any node.
    await waitFor('no call left on any node', async () => (await Promise.all(cluster.nodes.map(ownCalls))).every((n) => n === 0), 5000, 100);
    expect(cluster.keysLeft()).toBe('');
    expect(cluster.mediaSockets()).toBe('');
  });
});
