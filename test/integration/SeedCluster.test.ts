import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterRelay, logLines, TestCall, waitSessions } from '../helpers/cluster.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { waitFor, type Relay } from '../helpers/Relay.js';
import { rtpPacket } from '../helpers/RtpEndpoint.js';

/**
 * The seeds' three-relay setup on one host: relay k writes DB k, subscribes to the other two,
 * and lists its own interface first (pubK/127.0.0.K, then the others, rotated).
 */
describe('three relays on one Redis, configured as in the seed', () => {
  let redis: RedisServer;
  const relays: Relay[] = [];
  const calls: TestCall[] = [];
  const addr = (k: number): string => `127.0.0.${k}`;

  beforeAll(async () => {
    redis = await RedisServer.start();
    for (const k of [1, 2, 3]) {
      const order = [k, (k % 3) + 1, ((k + 1) % 3) + 1];
      relays.push(
        await clusterRelay(redis, k, {
          interfaces: [order.map((i) => `pub${i}/${addr(i)}`).join(';')],
          subscribe: order.slice(1),
        }),
      );
    }
    for (const k of [1, 2, 3]) calls.push(await TestCall.place(relays[k - 1]!, `seed-call-${k}`, addr(k)));
  });

  afterAll(async () => {
    for (const c of calls) c.close();
    for (const r of relays) await r.stop();
    await redis?.stop();
  });

  it('every relay prints own: 1, foreign: 2, total: 3', async () => {
    for (const r of relays) await waitSessions(r, { own: 1, foreign: 2 });
    for (const r of relays) {
      const text = await r.cli('list numsessions');
      expect(text).toContain('Current sessions own: 1\nCurrent sessions foreign: 2\nCurrent sessions total: 3\n');
    }
    // Own calls live on the relay's first interface.
    for (const [i, c] of calls.entries()) {
      expect(c.callerSendsTo.address).toBe(addr(i + 1));
      await c.mediaFlows();
    }
    expect(await relays[0]!.cli('list sessions foreign')).toMatch(/seed-call-2 \| .*redis_keyspace:2 \| foreign:yes/);
    expect(await relays[0]!.cli('list sessions foreign')).toMatch(/seed-call-3 \| .*redis_keyspace:3 \| foreign:yes/);
    expect(await relays[0]!.cli('list sessions own')).toMatch(/seed-call-1 \| .*redis_keyspace:1 \| foreign:no/);
  });

  it("logs which call, port and interface a standby cannot bind while the owner holds it", async () => {
    // Relay 2 holds call 1 as foreign on pub1/127.0.0.1, where relay 1 owns the ports.
    const lines = logLines(relays[1]!, 'cannot bind port of restored call').filter((l) => l['callId'] === 'seed-call-1');
    const ports = lines.map((l) => l['port']);
    for (const p of calls[0]!.relayPorts) expect(ports).toContain(p);
    expect(lines.every((l) => l['interface'] === 'pub1' && l['address'] === addr(1))).toBe(true);
    // The rest of the call is kept: it still counts and lists its ports.
    expect(await relays[1]!.cli('list sessions seed-call-1')).toContain(`${addr(1)}:${calls[0]!.relayPorts[0]}`);
  });

  it('binds the ports once the owner is gone (SIGKILL) and carries the media', async () => {
    // Only relay 2 stands by for call 1 (on one host two standbys would race for its ports);
    // terminating relay 3's copy leaves the owner's record alone.
    expect(await relays[2]!.cli('terminate seed-call-1')).toBe('\nCall Id (seed-call-1) successfully terminated by operator.\n\n');
    expect(await redis.client(1).exists('seed-call-1')).toBe(1);
    await relays[0]!.stop('SIGKILL');
    const lines = await waitFor(
      'relay 2 to bind the RTP ports of seed-call-1',
      () => {
        const l = logLines(relays[1]!, 'port bound after earlier failure').filter((x) => x['callId'] === 'seed-call-1');
        return calls[0]!.relayPorts.every((p) => l.some((x) => x['port'] === p)) && l;
      },
      5000,
      100,
    );
    expect(lines.every((l) => l['interface'] === 'pub1')).toBe(true);
    // The record's endpoints are in place: the callee hears the caller before it sends anything.
    const c = calls[0]!;
    const heard = c.callee.received.length;
    for (let i = 0; i < 3; i++) c.caller.send(rtpPacket(1000 + i, 0x1111), c.callerSendsTo.port, c.callerSendsTo.address);
    await c.callee.waitFor(heard + 3);
    await calls[0]!.mediaResumes();
  });
});
