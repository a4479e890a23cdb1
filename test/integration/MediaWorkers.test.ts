import bencode from 'bencode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNgBody } from '../helpers/NgClient.js';
import { MediaCall, streamsOf } from '../helpers/MediaCall.js';
import { Relay, sleep, waitFor } from '../helpers/Relay.js';
import { audioSdp } from '../helpers/sdp.js';
import { totalStatistics } from '../helpers/stats.js';
import { boundUdpPorts, portsUsed } from '../helpers/health.js';

/** Young-generation collections of all media workers so far, from `list workers`. */
async function collections(relay: Relay): Promise<number> {
  const text = await relay.cli('list workers');
  return [...text.matchAll(/, (\d+) young-generation collections, \d+ ms collecting\n/g)].reduce((n, m) => n + Number(m[1]), 0);
}

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
    // Pairs of ended calls stay bound (nothing is closed or bound): up to eight times the stock
    // per worker, here all twelve calls' pairs on top of the stocks...
    const kept = bound();
    expect(kept).toHaveLength(12 * 4 + 2 * 3 * 2);
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

  it('relays 10,000 packets with few collections on the media thread (`list workers` counts them)', async () => {
    const call = await MediaCall.establish(relay);
    const before = await collections(relay);
    // In bursts the sockets' buffers hold; every packet arrives.
    for (let i = 0; i < 100; i++) {
      call.callerSends(100, i * 100);
      await call.callee.waitFor((i + 1) * 100);
    }
    const during = (await collections(relay)) - before;
    // Node's own objects per datagram make one about every 6,000 packets; a media path that
    // allocated a few KB per packet would make several times this many.
    expect(during).toBeLessThan(10);
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

/** How often the relay's log says `text`. */
const times = (relay: Relay, text: string): number => relay.output.split(text).length - 1;

/** An NG request given time to wait out a worker that stopped answering (found within 5 s, then replaced). */
async function patient(relay: Relay, dict: Record<string, unknown>): Promise<Record<string, unknown>> {
  return decodeNgBody(await relay.ng.raw(Buffer.from(bencode.encode(dict)), undefined, 20_000));
}

// One worker, so every call is on it; NGRELAY_TEST_HOOKS lets the CLI make it hang or fail.
describe('media worker faults', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--num-threads=1', '--delete-delay=0'], env: { NGRELAY_TEST_HOOKS: '1' } });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('keeps every counter slot and socket exact when calls end and begin while their worker restarts', async () => {
    const calls: MediaCall[] = [];
    for (let i = 0; i < 8; i++) calls.push(await MediaCall.establish(relay, { callId: `slots-${i}` }));
    expect(await relay.cli('workers kill 0')).toBe('Media worker 0 stopped; it is being restarted with its calls.\n');
    // While the new thread starts and binds the ports again: half the calls end, others begin.
    await Promise.all([
      ...calls.slice(0, 4).map((c) => c.delete()),
      ...Array.from({ length: 4 }, (_, i) => relay.ng.ok({ command: 'offer', 'call-id': `slots-new-${i}`, 'from-tag': 'a', sdp: audioSdp('127.0.0.1', 5000) })),
    ]);
    await waitFor('the worker restarted', () => times(relay, 'media worker restarted') === 1, 10_000);
    // The calls that stayed, and new ones whose legs take slots of the new thread.
    for (let i = 0; i < 4; i++) calls.push(await MediaCall.establish(relay, { callId: `slots-after-${i}` }));
    const kept = calls.slice(4);
    // Media flows again on the calls that stayed...
    for (const c of kept) {
      for (let i = 0; i < 50 && (c.callee.received.length === 0 || c.caller.received.length === 0); i++) {
        c.callerSends(1, i);
        c.calleeSends(1, i);
        await sleep(20);
      }
    }
    const packets = async (c: MediaCall): Promise<[number, number]> => {
      const q = await c.query();
      return [streamsOf(q, 'caller')[0]!.stats.packets, streamsOf(q, 'callee')[0]!.stats.packets];
    };
    const before = await Promise.all(kept.map(packets));
    // ... and each leg counts its own packets only: a shared slot would add another leg's.
    for (let j = 0; j < kept.length; j++) {
      const c = kept[j]!;
      const [toCallee, toCaller] = [c.callee.received.length, c.caller.received.length];
      c.callerSends(j + 1, 1000);
      c.calleeSends(j + 11, 1000);
      await c.callee.waitFor(toCallee + j + 1);
      await c.caller.waitFor(toCaller + j + 11);
    }
    const after = await Promise.all(kept.map(packets));
    expect(after.map(([a, b], j) => [a - before[j]![0], b - before[j]![1]])).toEqual(kept.map((_, j) => [j + 1, j + 11]));
    // The worker holds exactly the live calls' ports: 8 calls and 4 offers, 4 ports each.
    expect((await workers(relay))[0]![0]).toBe(48);
    // Pairs of ended calls go back to the stock and are taken again by new calls without harm.
    for (let i = 0; i < 12; i++) {
      await relay.ng.ok({ command: 'offer', 'call-id': `slots-more-${i}`, 'from-tag': 'a', sdp: audioSdp('127.0.0.1', 5000) });
      await relay.ng.ok({ command: 'delete', 'call-id': `slots-more-${i}`, 'from-tag': 'a' });
    }
    expect(await relay.cli('terminate all')).toBe('All calls terminated by operator.\n');
    expect(await portsUsed(relay)).toBe(0);
    // Nothing left bound but the stock (three pairs in this range): no socket of an ended call.
    await waitFor('only the stock left bound', () => boundUdpPorts(relay.pid, relay.portMin, relay.portMax).length === 3 * 2, 5000);
    expect(times(relay, 'media worker died')).toBe(1);
    for (const c of calls) c.close();
  });

  it('replaces a worker that stops answering: requests waiting on it are answered, its calls carried on', async () => {
    const call = await MediaCall.establish(relay, { callId: 'hang-call' });
    call.callerSends(10);
    await call.callee.waitFor(10);
    expect(await relay.cli('workers hang 0')).toBe('Media worker 0: hang injected.\n');
    // Offers need the hung worker: they wait until it is replaced, then are answered.
    const offers = await Promise.all(
      Array.from({ length: 4 }, (_, i) => patient(relay, { command: 'offer', 'call-id': `hang-${i}`, 'from-tag': 'a', sdp: audioSdp('127.0.0.1', 5000) })),
    );
    for (const r of offers) expect(r['result']).toBe('ok');
    expect(times(relay, 'media worker stopped answering')).toBe(1);
    await waitFor('the worker restarted', () => times(relay, 'media worker restarted') === 2, 10_000);
    for (let i = 0; i < 50 && call.callee.received.length < 20; i++) {
      call.callerSends(1, 10 + i);
      await sleep(20);
    }
    expect(call.callee.received.length).toBeGreaterThanOrEqual(20);
    expect((await relay.ng.raw('d7:command4:pinge', undefined, 1000)).toString()).toBe('d6:result4:ponge');
    expect(await relay.cli('terminate all')).toBe('All calls terminated by operator.\n');
    call.close();
  });

  it('counts and logs an unhandled rejection on a worker and restarts it, its calls carried on', async () => {
    const call = await MediaCall.establish(relay, { callId: 'reject-call' });
    expect(await relay.cli('workers reject 0')).toBe('Media worker 0: reject injected.\n');
    await waitFor('the worker restarted', () => times(relay, 'media worker restarted') === 3, 10_000);
    expect(relay.output).toContain('rejection injected by a test');
    expect(times(relay, 'unhandled rejection; its state cannot be trusted')).toBe(1);
    for (let i = 0; i < 50 && call.callee.received.length < 10; i++) {
      call.callerSends(1, i);
      await sleep(20);
    }
    expect(call.callee.received.length).toBeGreaterThanOrEqual(10);
    await call.delete();
    call.close();
  });
});

describe('media worker test hooks', () => {
  it('are not there unless NGRELAY_TEST_HOOKS=1', async () => {
    const relay = await Relay.start({ args: ['--num-threads=1'] });
    try {
      expect(await relay.cli('workers hang 0')).toBe('Unknown or incomplete command::workers hang 0\n');
      expect(await relay.cli('workers reject 0')).toBe('Unknown or incomplete command::workers reject 0\n');
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });
});
