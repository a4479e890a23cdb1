import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../helpers/Balancer.js';
import { shortKamailioCall, type ShortCallResult } from '../helpers/BalancedCall.js';
import { Kamailio } from '../helpers/Kamailio.js';
import { Relay, waitFor } from '../helpers/Relay.js';
import { mediaRange } from '../helpers/ports.js';

const CALLS = 300;
const CONCURRENCY = 6;
const WEIGHTS = [2, 1, 1];

describe('an unmodified Kamailio driving ngrelay-balancer in front of two ngrelays and rtpengine 10.5', () => {
  let relays: Relay[] = [];
  let balancer: Balancer;
  let kamailio: Kamailio;
  const names = ['ngr1', 'ngr2', 'rtpe'];

  beforeAll(async () => {
    // Ranges apart: a call's member is read from the ports in its SDP.
    const { portMin } = mediaRange(1200);
    const range = (i: number): { portMin: number; portMax: number } => ({ portMin: portMin + 400 * i, portMax: portMin + 400 * i + 399 });
    relays = await Promise.all([
      Relay.start({ ...range(0), args: ['--delete-delay=0'] }),
      Relay.start({ ...range(1), args: ['--delete-delay=0'] }),
      Relay.start({ ...range(2), rtpengine: true, args: ['--delete-delay=0'] }),
    ]);
    balancer = await Balancer.start({ members: relays.map((r, i) => ({ name: names[i]!, address: `127.0.0.1:${r.ngPort}`, weight: WEIGHTS[i]!, capacity: 90 })) });
    kamailio = await Kamailio.start({ ngPort: balancer.ngPort });
  });

  afterAll(async () => {
    await kamailio?.stop();
    expect(await balancer?.stop()).toBe(0);
    for (const r of relays) await r.stop();
  });

  it(`${CALLS} calls: placed by weight, each call on one member, RTP through it both ways, nothing left afterwards`, async () => {
    await waitFor("Kamailio's ping answered", () => kamailio.output.includes(`rtpengine instance <udp:127.0.0.1:${balancer.ngPort}> found, support for it enabled`));
    const results: ShortCallResult[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        next++;
        results.push(await shortKamailioCall(kamailio));
      }
    }));
    expect(results).toHaveLength(CALLS);

    // The member of a call, from the relay ports its SDPs carry (each relay has its own range).
    const memberOf = (port: number): string => names[relays.findIndex((r) => port >= r.portMin && port <= r.portMax)] ?? 'none';
    const counts = new Map(names.map((n) => [n, 0]));
    for (const r of results) {
      // Offer and answer were handled by the same member, and media went through it both ways.
      expect(memberOf(r.answerPort)).toBe(memberOf(r.offerPort));
      expect(r.heard).toEqual({ alice: 3, bob: 3 });
      counts.set(memberOf(r.offerPort), counts.get(memberOf(r.offerPort))! + 1);
    }
    const total = WEIGHTS.reduce((a, b) => a + b, 0);
    const spread = names.map((n, i) => ({ member: n, calls: counts.get(n)!, expected: (CALLS * WEIGHTS[i]!) / total }));
    console.log(`placement over ${CALLS} calls: ${spread.map((s) => `${s.member} ${s.calls} (weight share ${s.expected})`).join(', ')}`);
    for (const s of spread) expect(Math.abs(s.calls - s.expected)).toBeLessThanOrEqual(s.expected * 0.1);

    // Every command of a call reached one member only: no other member's log names it.
    for (const r of results) expect(relays.filter((x) => x.output.includes(r.callId)).map((x) => names[relays.indexOf(x)])).toEqual([memberOf(r.offerPort)]);

    // All deleted: no call on any member, none in the balancer's map.
    for (const r of relays) expect((await r.ng.ok({ command: 'list', limit: 1000 }))['calls']).toEqual([]);
    expect((await balancer.cli('totals')).split('\n')).toContain('    active sessions = 0');
    expect(kamailio.output).not.toMatch(/rtpengine_(offer|answer) failed|did not respond|disabled/);
  });
});
