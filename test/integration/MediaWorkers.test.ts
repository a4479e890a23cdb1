import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaCall, streamsOf } from '../helpers/MediaCall.js';
import { Relay, sleep, waitFor } from '../helpers/Relay.js';
import { audioSdp } from '../helpers/sdp.js';
import { totalStatistics } from '../helpers/stats.js';
import { boundUdpPorts, portsUsed } from '../helpers/health.js';

/** `list workers` as [ports, packets] per worker. */
async function workers(relay: Relay): Promise<[number, number][]> {
  const text = await relay.cli('list workers');
  return [...text.matchAll(/Worker (\d+): (\d+) ports, (\d+) packets/g)].map((m) => [Number(m[2]), Number(m[3])]);
}

// Media on worker threads (num-threads=2): each call's ports on one worker, counters read by
// the control thread from shared memory, and a worker that dies is replaced with its calls.
describe('media worker threads', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--num-threads=2', '--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('keeps port pairs bound ahead of time on each worker: counted as free, taken by offers, topped up again, given back by ended calls', async () => {
    const bound = (): number[] => boundUdpPorts(relay.pid, relay.portMin, relay.portMax);
    // 400 ports: three pairs per worker, bound before the first call.
    await waitFor('both workers stocked', () => bound().length === 2 * 3 * 2, 5000);
    const stocked = bound();
    for (let i = 0; i < stocked.length; i += 2) expect(stocked[i + 1]).toBe(stocked[i]! + 1);
    expect(await portsUsed(relay)).toBe(0);
    const ids = Array.from({ length: 12 }, (_, i) => `stock-${i}`);
    const offered = new Set<number>();
    for (const id of ids) {
      const r = await relay.ng.ok({ command: 'offer', 'call-id': id, 'from-tag': 'a', sdp: audioSdp('127.0.0.1', 5000) });
      offered.add(Number(/m=audio (\d+)/.exec(r['sdp'] as string)![1]));
    }
    // The first offers on each worker got parked pairs; the rest were bound on demand.
    expect([...offered].some((p) => stocked.includes(p))).toBe(true);
    expect(await portsUsed(relay)).toBe(12 * 4);
    await waitFor('stock topped up', () => bound().length === 12 * 4 + 2 * 3 * 2, 5000);
    const beforeDelete = new Set(bound());
    for (const id of ids) await relay.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'a' });
    expect(await portsUsed(relay)).toBe(0);
    // Pairs of ended calls stay bound (nothing is closed or bound), up to twice the stock per worker...
    const kept = bound();
    expect(kept).toHaveLength(2 * 6 * 2);
    expect(kept.every((p) => beforeDelete.has(p))).toBe(true);
    // ... and what is kept beyond the stock is closed once it has not been needed for a second.
    await waitFor('only the stock left bound', () => bound().length === 2 * 3 * 2, 5000);
    expect(await portsUsed(relay)).toBe(0);
  });

  it('spreads calls over the workers, both sides of each call on one', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `spread-${i}`);
    for (const id of ids) {
      await relay.ng.ok({ command: 'offer', 'call-id': id, 'from-tag': 'a', sdp: audioSdp('127.0.0.1', 5000) });
      await relay.ng.ok({ command: 'answer', 'call-id': id, 'from-tag': 'a', 'to-tag': 'b', sdp: audioSdp('127.0.0.1', 5002) });
    }
    const w = await workers(relay);
    expect(w).toHaveLength(2);
    expect(w[0]![0] + w[1]![0]).toBe(40 * 4);
    // Each call holds its four ports on one worker.
    for (const [ports] of w) {
      expect(ports).toBeGreaterThan(0);
      expect(ports % 4).toBe(0);
    }
    expect(await relay.cli('terminate all')).toBe('All calls terminated by operator.\n');
    expect((await workers(relay)).map(([p]) => p)).toEqual([0, 0]);
  });

  it('reads per-stream and relay-wide counters across threads', async () => {
    const before = (await totalStatistics(relay)).relayedpackets;
    const call = await MediaCall.establish(relay);
    call.callerSends(30);
    call.calleeSends(20);
    await call.callee.waitFor(30);
    await call.caller.waitFor(20);
    const q = await call.query();
    expect(streamsOf(q, 'caller')[0]!.stats.packets).toBe(30);
    expect(streamsOf(q, 'callee')[0]!.stats.packets).toBe(20);
    expect(streamsOf(q, 'caller')[0]!.SSRC).toBe(0x1111);
    expect((await totalStatistics(relay)).relayedpackets - before).toBe(50);
    expect((await workers(relay)).reduce((n, [, p]) => n + p, 0)).toBeGreaterThanOrEqual(50);
    await call.delete();
    call.close();
  });

  it('replaces a worker that dies and carries its calls on: same ports, media flows again, counters kept', async () => {
    const call = await MediaCall.establish(relay);
    call.callerSends(10);
    call.calleeSends(10);
    await call.callee.waitFor(10);
    await call.caller.waitFor(10);
    const w = await workers(relay);
    const index = w.findIndex(([ports]) => ports === 4);
    expect(index).toBeGreaterThanOrEqual(0);
    expect(await relay.cli(`workers kill ${index}`)).toBe(`Media worker ${index} stopped; it is being restarted with its calls.\n`);
    await waitFor('the worker restarted', () => relay.output.includes('media worker restarted'), 5000);
    await waitFor('its ports bound again', async () => (await workers(relay))[index]![0] === 4, 5000);
    // Same ports as the SDP gave: the phones keep sending where they did.
    for (let i = 0; i < 50 && call.callee.received.length < 20; i++) {
      call.callerSends(1, 10 + i);
      call.calleeSends(1, 10 + i);
      await sleep(20);
    }
    expect(call.callee.received.length).toBeGreaterThanOrEqual(20);
    expect(call.caller.received.length).toBeGreaterThanOrEqual(20);
    const q = await call.query();
    expect(streamsOf(q, 'caller')[0]!.stats.packets).toBeGreaterThanOrEqual(20);
    await call.delete();
    call.close();
    expect(await relay.cli('workers kill 7')).toBe("No media worker '7'.\n");
  });

  it('still answers NG at once after all that', async () => {
    expect((await relay.ng.raw('d7:command4:pinge', undefined, 1000)).toString()).toBe('d6:result4:ponge');
  });
});
