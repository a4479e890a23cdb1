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
// message is stuck to: most calls are answered partly by forwarding to the owner. A resent
// datagram (Kamailio resends after 1 s without a reply) takes the same flow, to the same node,
// whose cookie cache answers it.

const CALLS = 60;
const CONCURRENCY = 6;
const NODES = 3;

describe('an unmodified Kamailio driving a shared cluster through an L4 balancer', () => {
  let cluster: BalancedNodes;
  let kamailio: Kamailio;

  beforeAll(async () => {
    // Debug logs: they name the requests a node answered from its cookie cache (resent ones).
    cluster = await BalancedNodes.start({ prefix: 's2', subnet: '127.0.6', nodes: NODES, args: ['--log-level=7'] });
    kamailio = await Kamailio.start({ ngHost: cluster.vip, ngPort: cluster.ngPort, netns: cluster.ns, children: 6 });
  }, 60_000);

  afterAll(async () => {
    await kamailio?.stop();
    await cluster?.stop();
  });

  /** `n` calls through Kamailio, `CONCURRENCY` at a time, each checked at every step and by its owner's counters. */
  async function placeCalls(n: number): Promise<KamailioCallResult[]> {
    const [query] = await cluster.clients(1);
    const open = cluster.agent.udp();
    const results: KamailioCallResult[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
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
    expect(results).toHaveLength(n);
    return results;
  }

  /** Kamailio got "ok" for every command, no node failed one, and BYE left nothing behind. */
  async function nothingFailedNorLeft(): Promise<void> {
    expect(kamailio.output).not.toMatch(/rtpengine_(offer|answer) failed|ERROR: rtpengine|did not respond/);
    for (const n of cluster.nodes) expect(n.output).not.toMatch(/"NG command failed"|"NG reply failed"/);
    await waitFor('no call left on any node', async () => (await Promise.all(cluster.nodes.map(ownCalls))).every((c) => c === 0), 5000, 100);
    // A delete's release in the store may still wait for the store after its reply (bounded wait).
    await waitFor('no call key left in the store', () => cluster.keysLeft() === '', 5000, 100);
    await waitFor('no media socket left beyond the idle ones', () => cluster.extraMediaSockets().every((n) => n === 0), 5000, 100);
  }

  it(`${CALLS} calls from INVITE to BYE: the owner relays RTP and RTCP both ways, every command answered, nothing left behind`, async () => {
    await waitFor("Kamailio's ping answered through the balancer", () =>
      kamailio.output.includes(`rtpengine instance <udp:${cluster.vip}:${cluster.ngPort}> found, support for it enabled`), 10_000, 100);
    const results = await placeCalls(CALLS);

    const owners = new Map<string, number>();
    for (const r of results) owners.set(r.sdps[0]!.media.address, (owners.get(r.sdps[0]!.media.address) ?? 0) + 1);
    const stats = await Promise.all(cluster.nodes.map((n) => n.ng.ok({ command: 'statistics' })));
    const forwarded = stats.map((s) => ((s['statistics'] as Dict)['cluster'] as Dict)['forwarded'] as number);
    const packets = results.reduce((a, r) => a + 2 * (r.sent.rtp + r.sent.rtcp), 0);
    console.log(`kamailio through the L4 balancer: ${CALLS} calls, ${packets} RTP/RTCP packets relayed; owners ${JSON.stringify([...owners])}; commands forwarded to the owner per node ${JSON.stringify(forwarded)}`);
    // The balancer spread the work: commands reached non-owners, which forwarded them.
    expect(forwarded.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    await nothingFailedNorLeft();
  });

  it('the store takes no writes for 1.5 s under calls: replies wait, Kamailio resends, the same node answers from its cache, every call completes', async () => {
    const resentBefore = cookieHits();
    // New calls' claims (writes) wait out the pause, longer than Kamailio's 1 s before it resends.
    cluster.redisCli('client', 'pause', '1500', 'write');
    const results = await placeCalls(2 * CONCURRENCY);
    expect(results).toHaveLength(2 * CONCURRENCY);
    const resent = cookieHits() - resentBefore;
    console.log(`kamailio through the L4 balancer, store writes paused 1.5 s: ${results.length} calls completed; ${resent} resent NG requests answered from a cookie cache`);
    expect(resent).toBeGreaterThan(0);
    await nothingFailedNorLeft();
  });

  /** Kamailio's requests (from 127.0.0.1, not a forwarding node) that a node answered from its cookie cache: resends. */
  function cookieHits(): number {
    const resend = (l: string): boolean => l.includes('duplicate NG request answered from cache') && l.includes('"from":"127.0.0.1:');
    return cluster.nodes.reduce((a, n) => a + n.output.split('\n').filter(resend).length, 0);
  }
});
